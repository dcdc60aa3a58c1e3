"""Benchmark: how much each checked claim's numbers move from one seed to another.

A check whose margin is smaller than the spread of its number between runs is a flaky check: it passes
on one machine and fails on the next. This script runs notebooks (standard mode by default) once per
seed with ``GAN_COURSE_SEED`` = 0, 1, 2 (added to every seed the notebook gives ``helpers.seed_everything``:
other initial weights and other noise), reads every line ``helpers.check`` printed (``✓``, ``✗`` or
``·``, the claim, the numbers measured), and writes one table per notebook: each claim's numbers per seed
and, where the runs print the same count of numbers, the spread (largest minus smallest) of each.

Every cell runs even after a failed claim, so one failure does not hide the claims after it. Each seed
saves its checkpoints in a folder of its own (first filled with a copy of ``data/checkpoints``), so a
notebook that loads a generator it did not train here (05, 06) reads the one of the same seed when this
run trained it, and the course's saved one otherwise; the run warns when a saved one comes from another
run mode (a quick-mode model read in a standard run measures the wrong thing).

Run: ``.venv/bin/python -m bench.seed_spread --only 01_vanilla_gan`` (about 3 x the notebook's standard
time); ``--seeds 0 1 2`` by default. Writes a section "seed spread NN_name" of bench/results.md per notebook.

On two cores, seeds can run as separate processes (one torch thread each) and be merged afterwards:
``--claims-out FILE`` saves what a run read (claims and times, per notebook and seed) instead of writing
results.md, ``--claims-in FILE ...`` merges saved runs and writes the sections without running anything, and
``--executed SEED:DIR`` reads one seed's claims from notebooks already executed elsewhere (``DIR/NAME*.ipynb``,
e.g. kept by ``bench/bench_speedup.py --keep``).
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from bench.harness import machine, parser, patched_environ, write_section
from helpers import config
from helpers.checkpoints import list_checkpoints, read_checkpoint
from helpers.config import CourseError
from tools import reports

MARKS = ("✓", "✗", "·")
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def claims(nb) -> list[tuple[str, str, str]]:
    """``(mark, claim, measured)`` for every line ``helpers.check`` printed in the executed notebook."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") != "stream":
                continue
            for line in out.get("text", "").splitlines():
                if line[:1] in MARKS and line[1:2] == " ":
                    body = line[2:]
                    claim, _, measured = body.partition("  [")
                    found.append((line[0], claim.strip(), measured[:-1].strip() if measured.endswith("]") else measured.strip()))
    return found


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in NUMBER.findall(text)]


def spread(measured: list[str]) -> str:
    """Largest minus smallest of each number, position by position, when every run printed as many."""
    values = [numbers(m) for m in measured]
    if len(values) < 2 or not values[0] or any(len(v) != len(values[0]) for v in values):
        return "–"
    return ", ".join(f"{max(col) - min(col):.3g}" for col in zip(*values))


def table(name: str, runs: dict[int, list[tuple[str, str, str]]]) -> str:
    seeds = list(runs)
    order = list(dict.fromkeys(claim for found in runs.values() for _, claim, _ in found))
    rows = [f"| claim | {' | '.join(f'seed {s}' for s in seeds)} | spread |", "|---|" + "---|" * (len(seeds) + 1)]
    for claim in order:
        cells, measured = [], []
        for s in seeds:
            hit = next(((m, v) for m, c, v in runs[s] if c == claim), None)
            cells.append(f"{hit[0]} {hit[1]}" if hit else "(not reached)")
            if hit:
                measured.append(hit[1])
        safe = claim.replace("|", "\\|")
        rows.append(f"| {safe} | " + " | ".join(c.replace("|", "\\|") for c in cells) + f" | {spread(measured)} |")
    return f"### {name}\n\n" + "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--only", action="append", metavar="NAME", help="notebook to run, e.g. 01_vanilla_gan (repeatable)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="values of GAN_COURSE_SEED (default: 0 1 2)")
    ap.add_argument("--mode", default="standard", choices=config.MODES, help="run mode (default: standard)")
    ap.add_argument("--claims-out", type=Path, help="save the claims read (JSON) instead of writing results.md")
    ap.add_argument("--claims-in", type=Path, nargs="+", help="merge saved runs (JSON) and write results.md; runs nothing")
    ap.add_argument("--tag", default="", help="appended to each section's name (e.g. bfloat16), so earlier sections stay")
    ap.add_argument("--executed", action="append", default=[], metavar="SEED:DIR",
                    help="take this seed's claims from executed notebooks DIR/NAME*.ipynb instead of running it")
    args = ap.parse_args(argv)
    if args.claims_in:
        results, times, minutes, machines = {}, {}, 0.0, []
        for path in args.claims_in:
            saved_run = json.loads(path.read_text())
            machines.append(saved_run["machine"])
            for name, runs in saved_run["results"].items():
                results.setdefault(name, {}).update({int(s): [tuple(c) for c in found] for s, found in runs.items()})
                times.setdefault(name, {}).update({int(s): t for s, t in saved_run["times"][name].items()})
            minutes = max(minutes, saved_run["minutes"])
        write_tables(args, by_seed(results), by_seed(times), minutes, machines, merged=True)
        return 0
    notebooks = reports.course_notebooks(args.only)
    results: dict[str, dict[int, list]] = {nb.stem: {} for nb in notebooks}
    times: dict[str, dict[int, float]] = {nb.stem: {} for nb in notebooks}
    executed = dict(item.split(":", 1) for item in args.executed)
    for seed, folder in executed.items():
        for path in notebooks:
            found = sorted(Path(folder).glob(f"{path.stem}*.ipynb"))
            if not found:
                raise SystemExit(f"--executed {seed}:{folder}: no executed {path.stem}*.ipynb there.")
            nb = nbformat.read(found[0], as_version=4)
            results[path.stem][int(seed)] = claims(nb)
            times[path.stem][int(seed)] = sum(c["seconds"] for c in reports.slowest_cells(nb, top=None))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seed-spread-") as tmp:
        for seed in [s for s in args.seeds if str(s) not in executed]:
            ckpt = Path(tmp) / f"seed-{seed}"
            shutil.copytree(config.checkpoint_dir(), ckpt)
            with patched_environ(GAN_COURSE_SEED=str(seed), GAN_COURSE_CHECKPOINTS=str(ckpt)):
                other = other_mode_checkpoints(args.mode)
                if other:   # a notebook of this run that loads one without training it first would measure that model
                    print(f"seed {seed}: warning: {', '.join(other)} in {config.checkpoint_dir()} were not saved in "
                          f"{args.mode} mode; notebooks 05 and 06 read them unless this run trains them first "
                          "(add the notebooks that make them to --only)", flush=True)
                for path in notebooks:
                    print(f"seed {seed}: {path.stem} ({args.mode}) ...", flush=True)
                    run = reports.execute_notebook(path, args.mode, allow_errors=True)
                    results[path.stem][seed] = claims(run.nb)
                    times[path.stem][seed] = run.seconds
                    failed = [c for m, c, _ in results[path.stem][seed] if m == "✗"]
                    print(f"   {run.seconds:.0f} s, {len(results[path.stem][seed])} claims, {len(failed)} failed", flush=True)
    minutes = (time.perf_counter() - start) / 60
    results, times = by_seed(results), by_seed(times)
    if args.claims_out:
        args.claims_out.write_text(json.dumps({"results": results, "times": times, "minutes": minutes,
                                               "machine": machine(config.device())}, indent=1))
        print(f"saved the claims of seeds {args.seeds} to {args.claims_out}")
        return 0
    write_tables(args, results, times, minutes, [machine(config.device())])
    return 0


def other_mode_checkpoints(mode: str) -> list[str]:
    """The checkpoints in the checkpoint folder saved in another run mode than ``mode``, as "name (mode)"."""
    found = []
    for name in list_checkpoints():
        try:
            saved_in = read_checkpoint(name).get("meta", {}).get("mode")
        except CourseError:
            saved_in = "unreadable"
        if saved_in != mode:
            found.append(f"{name} ({saved_in})")
    return found


def by_seed(per_notebook: dict[str, dict]) -> dict[str, dict]:
    """Each notebook's runs in seed order, however they were gathered."""
    return {name: dict(sorted(runs.items())) for name, runs in per_notebook.items()}


def write_tables(args, results: dict, times: dict, minutes: float, machines: list[str], merged: bool = False) -> None:
    how = ("seeds run as separate processes and merged (`--claims-in`); the longest run took" if merged
           else "the run took")
    for name, runs in results.items():
        seeds = list(runs)
        text = [f"Claims' numbers per seed, {args.mode} mode (`python -m bench.seed_spread --only {name}`; {how} "
                f"{minutes:.0f} min in all): `GAN_COURSE_SEED` = {', '.join(map(str, seeds))}; ✓ held, ✗ failed, "
                "· not enforced or not applicable. Spread: largest minus smallest of each number printed, in its "
                f"own unit (percentage points for percentages). Models' precision: {config.precision()} "
                "(`GAN_COURSE_PRECISION`).", "",
                "Machine: " + "; ".join(dict.fromkeys(machines)) if len(set(machines)) == 1 else
                "Machines (one per process): " + " / ".join(machines), "",
                table(name, runs), "",
                "Run times: " + ", ".join(f"seed {s} {t / 60:.1f} min" for s, t in times[name].items())]
        write_section(args.out, f"seed spread {name}" + (f", {args.tag}" if args.tag else ""), "\n".join(text))


if __name__ == "__main__":
    raise SystemExit(main())
