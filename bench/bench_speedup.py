"""Before and after, side by side in one run: each notebook's standard run and the quick suite, on a baseline
checkout of the course against this one (issue 20's ratios).

Machines of one kind differ by 2x from day to day, so the two versions run interleaved on the same machine in
one run: for each notebook, both versions one after the other (the baseline first for even-numbered notebooks,
second for odd ones, so slow drift of the machine does not favour either), each in a fresh kernel, each with
``helpers.speed_probe(precision="fp32")`` taken just before and just after (float32 for both: the machine's speed on
one fixed workload, whatever precision the version's notebooks use; one probe moved by up to ±20% between runs
minutes apart, so the scaled ratio uses the mean of the two around each run). Each version reads its own code
(``PYTHONPATH``) and writes to its own data folder (checkpoints, cached classifier), so neither sees the other's checkpoints.

Run::

    git worktree add --detach ../base <baseline commit>          # today's code, kept runnable
    .venv/bin/python -m bench.bench_speedup --baseline ../base --baseline-name <commit>

``--only NAME`` (repeatable) runs some notebooks; ``--no-quick`` skips the quick suite; ``--keep DIR`` saves the
executed notebooks (with nbclient's per-cell timestamps) for a closer look; ``--versions current`` runs only this
checkout (``baseline`` only the baseline). Writes the section "speedup" of bench/results.md.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from bench.harness import machine, parser, patched_environ, suite_commands, write_section
from helpers.config import ROOT
from helpers.probe import speed_probe
from tools.reports import course_notebooks, duration, execute_notebook, slowest_cells

TARGET_NOTEBOOK, TARGET_SUITE = 0.6, 0.6


def version_env(tree: Path, data: Path, mode: str):
    """Environment for one version: its code first on the path, its own data folder, the run mode."""
    return patched_environ(drop=("GAN_COURSE_CHECKPOINTS",), PYTHONPATH=str(tree), GAN_COURSE_DATA=str(data),
                           GAN_COURSE_MODE=mode)


def prepare_data(data: Path) -> None:
    """A data folder per version, seeded with this checkout's cached classifiers (so neither version pays for
    training the quality meter's classifier inside a notebook) and without checkpoints."""
    data.mkdir(parents=True, exist_ok=True)
    for cached in (ROOT / "data").glob("classifier-*.pt"):
        if not (data / cached.name).exists():
            shutil.copy2(cached, data / cached.name)


def run_notebook(tree: Path, data: Path, name: str, keep: Path | None, label: str) -> dict:
    path = tree / "notebooks" / f"{name}.ipynb"
    with version_env(tree, data, "standard"):
        probe = speed_probe(precision="fp32")   # the machine's speed, the same workload for both versions
        # the probe a notebook states with its run time is in the course's own precision (helpers.speed_probe())
        course_probe = speed_probe() if label == "current" else None
        nb, seconds, error, peak = execute_notebook(path, "standard")
        probe_after = speed_probe(precision="fp32")   # and just after: the machine's speed during the run, bracketed
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, keep / f"{name}.{label}.ipynb")
    print(f"    {label:8s} {name}: {duration(seconds)} at probe {probe:,.0f} / {probe_after:,.0f} img/s (before / after)"
          + (f"  FAILED: {error}" if error else ""), flush=True)
    return {"seconds": seconds, "probe": probe, "probe_after": probe_after, "course_probe": course_probe, "error": error,
            "peak_mb": peak, "slowest": slowest_cells(nb, top=5)}


def machine_speed(run: dict) -> float:
    """The float32 probe's reading for a run: the mean of the probes just before and just after it (runs recorded
    before the second probe existed have only the first)."""
    return (run["probe"] + run["probe_after"]) / 2 if run.get("probe_after") else run["probe"]


def run_suite(tree: Path, data: Path) -> dict:
    """The quick suite as the tree's `make test` runs it, without the browser tests: unit tests, then nbval."""
    out = {}
    with version_env(tree, data, "quick"):
        for key, command in suite_commands(tree).items():
            start = time.perf_counter()
            done = subprocess.run(command, shell=True, cwd=tree, capture_output=True, text=True)
            out[key] = time.perf_counter() - start
            out[f"{key}_result"] = (done.stdout.strip().splitlines() or ["?"])[-1].strip("= ")
            out[f"{key}_command"] = command.replace(sys.executable, "$(PY)")
            print(f"    {key}: {duration(out[key])}: {out[f'{key}_result']}", flush=True)
    return out


def ratio_cell(before: float | None, after: float | None, target: float | None = None) -> str:
    """``after / before`` as ``0.55x``; with a target, bold and marked ✓ (at most the target) or ✗."""
    if not before or not after:
        return "–"
    r = after / before
    return f"{r:.2f}x" if target is None else f"**{r:.2f}x** {'✓' if r <= target else '✗'}"


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--baseline", type=Path, required=True, help="a checkout of the baseline code (git worktree)")
    ap.add_argument("--baseline-name", default=None, help="how the section names the baseline (default: its HEAD)")
    ap.add_argument("--only", action="append", metavar="NAME", help="run only this notebook (repeatable)")
    ap.add_argument("--no-quick", action="store_true", help="skip the quick suite")
    ap.add_argument("--no-notebooks", action="store_true", help="run only the quick suite")
    ap.add_argument("--keep", type=Path, default=None, help="save the executed notebooks here")
    ap.add_argument("--versions", default="baseline,current", help="which versions to run (default: both)")
    ap.add_argument("--scratch", type=Path, default=Path("/tmp/bench_speedup"), help="data folders of both versions")
    ap.add_argument("--section", default="speedup", help="section of results.md to write (default: speedup)")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw numbers here")
    args = ap.parse_args()
    trees = {"baseline": args.baseline.resolve(), "current": ROOT}
    wanted = [v.strip() for v in args.versions.split(",") if v.strip()]
    commit = lambda t: subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=t, capture_output=True,  # noqa: E731
                                      text=True).stdout.strip() or "?"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    names = {"baseline": args.baseline_name or commit(trees["baseline"]),
             "current": commit(ROOT) + (" with uncommitted changes" if dirty else "")}
    data = {v: args.scratch / v for v in trees}
    for v in wanted:
        shutil.rmtree(data[v] / "checkpoints", ignore_errors=True)
        prepare_data(data[v])
    started = time.time()
    results: dict[str, dict] = {"notebooks": {}, "suite": {}}
    for i, path in enumerate([] if args.no_notebooks else course_notebooks(args.only)):
        print(f"[{path.stem}]", flush=True)
        order = wanted if i % 2 == 0 else wanted[::-1]
        results["notebooks"][path.stem] = {v: run_notebook(trees[v], data[v], path.stem, args.keep, v) for v in order}
    if not args.no_quick:
        for v in wanted:
            print(f"[quick suite, {v}]", flush=True)
            results["suite"][v] = run_suite(trees[v], data[v])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    write_section(args.out, args.section, report(results, names, wanted, time.time() - started))


def report(results: dict, names: dict, wanted: list[str], seconds: float) -> str:
    both = set(wanted) == {"baseline", "current"}
    lines = [
        "## Before and after: notebooks and the quick suite, side by side",
        "",
        f"`python -m bench.bench_speedup`: one run, {duration(seconds)} in all. Machine: {machine('cpu')}.",
        f"Baseline: the code at {names['baseline']}; current: {names['current']}.",
    ]
    if results["notebooks"]:
        lines[-1] += (" Each notebook ran in standard mode in a fresh kernel, the two versions one after the other, each with "
                      "the speed probe (img/s of a fixed DCGAN step, in float32 for both versions) taken just before and just after it; \"scaled\" "
                      "divides each time by its probes' share of the baseline's probes (the mean of before and after), so a machine "
                      "that slowed down between the two runs does not count as a speed-up or a slow-down.")
    if not both:
        lines.append(f"Only the {' and '.join(wanted)} version ran here: the section records its times, not a ratio.")
    if results["notebooks"]:
        lines += ["", "| notebook | baseline | probe before / after | current | probe before / after | current / baseline | scaled (target ≤ 0.6) | claims |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
    total = {v: 0.0 for v in wanted}
    for name, runs in results["notebooks"].items():
        b, c = runs.get("baseline"), runs.get("current")
        for v, r in runs.items():
            total[v] += r["seconds"]
        cells = [name]
        for r in (b, c):
            probes = "–" if not r else f"{r['probe']:,.0f}" + (f" / {r['probe_after']:,.0f}" if r.get("probe_after") else "")
            cells += [duration(r["seconds"]) if r else "–", probes]
        plain = ratio_cell(b and b["seconds"], c and c["seconds"])
        scaled = ratio_cell(b["seconds"], c["seconds"] * machine_speed(c) / machine_speed(b), TARGET_NOTEBOOK) if b and c else "–"
        errors = "; ".join(f"{v}: {r['error']}" for v, r in runs.items() if r["error"]) or "all held"
        lines.append("| " + " | ".join(cells + [plain, scaled, errors]) + " |")
    if both and results["notebooks"]:
        lines.append(f"| **all notebooks** | {duration(total['baseline'])} | | {duration(total['current'])} | | "
                     f"{ratio_cell(total['baseline'], total['current'], TARGET_NOTEBOOK)} | | |")
    course = [f"{name} {r['course_probe']:,.0f}" for name, runs in results["notebooks"].items()
              for v, r in runs.items() if v == "current" and r.get("course_probe")]
    if course:
        lines += ["", "The probe in the course's own precision (`helpers.speed_probe()`, what a notebook's Run time states), "
                  "taken before each current run: " + ", ".join(course) + " img/s."]
    suite = results["suite"]
    if suite:
        lines += ["", "Quick suite (`make test` without the browser tests: unit tests, then the notebooks through nbval):", "",
                  "| | " + " | ".join(wanted) + (" | current / baseline (target ≤ 0.6) |" if both else " |"),
                  "|---|" + "---:|" * (len(wanted) + (1 if both else 0))]
        for key in ("unit", "nbval"):
            row = [key] + [f"{duration(suite[v][key])} ({suite[v][key + '_result']})" for v in wanted]
            if both:
                row.append(ratio_cell(suite["baseline"][key], suite["current"][key], TARGET_SUITE))
            lines.append("| " + " | ".join(row) + " |")
        sums = {v: suite[v]["unit"] + suite[v]["nbval"] for v in wanted}
        row = ["**both**"] + [duration(sums[v]) for v in wanted]
        if both:
            row.append(ratio_cell(sums["baseline"], sums["current"], TARGET_SUITE))
        lines.append("| " + " | ".join(row) + " |")
        lines += ["", "Commands: " + "; ".join(f"{v}: `{suite[v]['unit_command']}`, `{suite[v]['nbval_command']}`" for v in wanted)]
    if results["notebooks"]:
        lines += ["", "Slowest cells of each run (seconds, cell index from 0, first line):", ""]
    for name, runs in results["notebooks"].items():
        for v, r in runs.items():
            cells = ", ".join(f"{c['seconds']:.0f} s cell {c['cell']} `{c['first_line'][:60]}`" for c in r["slowest"])
            lines.append(f"* **{name}, {v}**: {cells}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
