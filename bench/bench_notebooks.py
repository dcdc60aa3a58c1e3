"""Benchmark: each notebook's run time in quick and standard mode, and the peak memory of its kernel.

* Quick mode is run here: every notebook executed as `make test` runs it (nbclient, a fresh ``python3``
  kernel each, ``GAN_COURSE_MODE=quick``, checkpoints in a temporary folder), plus the unit tests
  (the unit-test line of `make test`) timed as one command. The quick suite's time is the sum of the two.
* Standard mode takes about 45 minutes, so by default its numbers come from the last ``make reports``:
  ``reports/index.json`` records each notebook's wall time, its kernel's peak memory, when and on which
  machine. ``--standard run`` rebuilds the reports first (``python -m tools.reports``, the same as
  ``make reports``); ``--standard skip`` leaves standard mode out. The file says which was used.

Peak memory is the kernel process's peak resident set size (Linux: ``VmHWM``, exact), recorded by
``tools.reports.execute_notebook``. Targets: each notebook's run time as its first cell states it,
the whole standard build under 45 min, the quick suite under 6 min, every kernel under 3 GB.

Run: ``make bench`` or ``.venv/bin/python -m bench.bench_notebooks`` (about 6 min on a 2-core CPU;
``--only 00_objective_theory --no-unit-tests`` for a smoke test); writes the section "notebooks" of
bench/results.md.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

import helpers
from bench.harness import machine, parser, patched_environ, suite_commands, write_section
from helpers.config import ROOT
from helpers.probe import scaled_seconds, speed_probe
from tools import reports

TARGETS = {"standard build": 45 * 60, "quick suite": 6 * 60, "memory_mb": 3 * 1024}
ISSUE_TARGETS = {"06_evaluation": {"standard": 5 * 60}}   # issue 7: "06 in standard mode under 5 minutes"
UNITS = {"s": 1, "min": 60, "h": 3600}


def run_time_text(path: Path) -> str:
    """The notebook's "**Run time**" paragraph, from those words on (empty when it has none)."""
    nb = nbformat.read(path, as_version=4)
    text = next((c.source for c in nb.cells if c.cell_type == "markdown" and "Run time" in c.source), "")
    return text[text.find("Run time"):]


def stated_budgets(path: Path) -> dict[str, float]:
    """The run time per mode that the notebook's "**Run time**" paragraph states, in seconds.

    Reads a table row ``| quick | ... | 40 s |`` (the last cell) or inline ``quick ≈ 40 s``.
    """
    text = run_time_text(path)
    found = {}
    for mode in ("quick", "standard"):
        row = re.search(rf"^\|\s*{mode}\s*\|(?:.*\|)?([^|]*)\|\s*$", text, re.M)
        cell = row.group(1) if row else (re.search(rf"\b{mode}\s*(?:≈|~|:)\s*([\d.,]+\s*(?:h|min|s)\b)", text) or [None, ""])[1]
        value = re.search(r"([\d.]+)\s*(h|min|s)\b", cell or "")
        if value:
            found[mode] = float(value.group(1)) * UNITS[value.group(2)]
    for mode, limit in ISSUE_TARGETS.get(path.stem, {}).items():
        found[mode] = min(found.get(mode, limit), limit)
    return found


def stated_probe(path: Path) -> float | None:
    """The speed probe (img/s) of the machine on which the notebook's stated run times were measured."""
    found = re.search(r"speed probe (?:read |gave |of )?([\d,]+) img/s", run_time_text(path))
    return float(found.group(1).replace(",", "")) if found else None


def against_stated(seconds: float, stated: float | None, stated_at: float | None, probe: float | None) -> str:
    """How a measured time compares with the stated one. With both probes, the stated time is first scaled to
    this machine (``helpers.probe.scaled_seconds``) and a ratio beyond 1.5x either way is flagged ⚠; without
    them, ✓ means within the stated time."""
    if stated is None:
        return ""
    if stated_at is None or probe is None:
        return mark(seconds, stated)
    ratio = seconds / scaled_seconds(stated, stated_at, probe)
    return f" ({ratio:.2f}x expected{' ✓' if 1 / 1.5 <= ratio <= 1.5 else ' ⚠'})"


def run_quick(notebooks: list[Path]) -> dict[str, dict]:
    """Execute each notebook in quick mode, as `make test` does; checkpoints go to a temporary folder."""
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-checkpoints-") as checkpoints, \
            patched_environ(GAN_COURSE_CHECKPOINTS=checkpoints, GAN_COURSE_LIVE="0", MPLBACKEND="Agg"):   # as conftest.py
        for path in notebooks:
            _, seconds, error, peak = reports.execute_notebook(path, "quick")
            results[path.stem] = {"seconds": seconds, "peak_memory_mb": peak, "error": error}
            print(f"quick {path.stem}: {reports.duration(seconds)}, kernel peak {peak} MB{', FAILED: ' + error if error else ''}",
                  flush=True)
    return results


def run_unit_tests() -> tuple[float, int]:
    """The unit tests as `make test` runs them (the Makefile's own line), timed as one command."""
    start = time.perf_counter()
    done = subprocess.run(suite_commands(ROOT)["unit"], shell=True, cwd=ROOT)
    return time.perf_counter() - start, done.returncode


def read_index(path: Path) -> tuple[dict[str, dict], str]:
    """Standard-mode entries of a reports/index.json, and where it is, when and where they ran."""
    if not path.exists():
        return {}, f"`{path}` does not exist, so none (run `make reports`, or this script with `--standard run`)."
    entries = {e["name"]: e for e in json.loads(path.read_text()) if e.get("mode") == "standard"}
    dates = sorted({e["finished"][:16].replace("T", " ") for e in entries.values() if e.get("finished")})
    machines = sorted({e["machine"] for e in entries.values() if e.get("machine")})
    undated = [n for n, e in entries.items() if not e.get("finished")]
    when = f"finished {dates[0]}" + (f" to {dates[-1]}" if len(dates) > 1 else "") if dates else ""
    if undated:
        stamp = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        when += ("; " if when else "") + f"{', '.join(undated)} recorded before run dates were, file written {stamp}"
    where = "; ".join(machines) if machines else "not recorded (the entries predate machine recording)"
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return entries, f"`{shown}` ({when}; machine: {where})."


def mark(value: float | None, limit: float | None) -> str:
    if value is None or limit is None:
        return ""
    return " ✓" if value <= limit else f" ✗ (+{value / limit - 1:.0%})"


def memory(mb: float | None) -> str:
    return "not recorded" if mb is None else f"{mb:,.0f} MB{mark(mb, TARGETS['memory_mb'])}"


def table(notebooks, quick, standard, probe_here: float | None = None) -> tuple[str, list[str]]:
    """The table, and a warning line per run whose time is off the stated one (scaled by the probes) by > 1.5x."""
    lines = ["| notebook | quick: time | stated | quick: kernel peak | standard: time | stated | standard: kernel peak |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    warnings = []
    for path in notebooks:
        stated, stated_at = stated_budgets(path), stated_probe(path)
        cells = []
        for mode, runs in (("quick", quick), ("standard", standard)):
            r = runs.get(path.stem)
            if r is None:
                cells += ["–", reports.duration(stated.get(mode)), "–"]
                continue
            failed = f" (failed: {r['error']})" if r.get("error") else ""
            # The stated probe belongs to the standard run time; quick times are stated roughly ("about").
            probe = r.get("probe_img_s") if mode == "standard" else None
            verdict = against_stated(r["seconds"], stated.get(mode), stated_at if mode == "standard" else None, probe)
            if "⚠" in verdict:
                warnings.append(f"WARNING: {path.stem} {mode} took {reports.duration(r['seconds'])}, {verdict.strip(' ()⚠')}: "
                                f"it states {reports.duration(stated[mode])} on a machine whose speed probe gave "
                                f"{stated_at:,.0f} img/s, and this one gave {probe:,.0f}; update the notebook's Run time.")
            cells += [f"{reports.duration(r['seconds'])}{verdict}{failed}",
                      reports.duration(stated.get(mode)) if mode in stated else "not stated", memory(r.get("peak_memory_mb"))]
        lines.append(f"| {path.stem} | " + " | ".join(cells) + " |")
    return "\n".join(lines), warnings


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--standard", choices=("index", "run", "skip"), default="index",
                    help="standard-mode numbers: from reports/index.json (default), rebuild the reports first "
                         "(about 45 min, same as make reports), or leave out")
    ap.add_argument("--index", type=Path, default=ROOT / "reports" / "index.json", help="the reports index to read")
    ap.add_argument("--only", action="append", metavar="NAME", help="only this notebook (repeatable; for a smoke test)")
    ap.add_argument("--no-unit-tests", action="store_true", help="do not run the unit tests (for a smoke test)")
    ap.add_argument("--no-quick", action="store_true", help="do not run quick mode (only read or run the standard build)")
    ap.add_argument("--section", default="notebooks", help="section of the results file to write (default: notebooks; "
                    "e.g. 'notebooks, full MNIST' for a build with GAN_COURSE_DATA pointing at full MNIST)")
    args = ap.parse_args()
    notebooks = reports.course_notebooks(args.only)

    standard, source = {}, "left out (`--standard skip`)."
    if args.standard == "run":
        reports.main(["--mode", "standard", "--out", str(args.index.parent)] + sum((["--only", p.stem] for p in notebooks), []))
    if args.standard != "skip":
        standard, record = read_index(args.index)
        source = ("run fresh by this script (`--standard run` rebuilt the reports first), as recorded in " if args.standard == "run"
                  else "not run here: taken from the last `make reports`, as recorded in ") + record
    probe_here = None if args.no_quick else speed_probe()
    started = time.perf_counter()
    quick = {} if args.no_quick else run_quick(notebooks)
    unit = None if args.no_unit_tests or args.no_quick else run_unit_tests()
    quick_wall = time.perf_counter() - started

    quick_total = sum(r["seconds"] for r in quick.values())
    suite = quick_total + (unit[0] if unit else 0)
    std = [standard[p.stem] for p in notebooks if p.stem in standard]
    missing = [p.stem for p in notebooks if p.stem not in standard]
    peaks = [r["peak_memory_mb"] for r in [*quick.values(), *std] if r.get("peak_memory_mb") is not None]
    partial = f" (only {', '.join(p.stem for p in notebooks)})" if args.only else ""
    whole = not args.only   # totals are compared with the targets only when every notebook ran
    data = helpers.load_mnist(quiet=True).description
    unit_line = "not run (`--no-quick`)" if args.no_quick else (f"unit tests `{suite_commands(ROOT)['unit'].replace(sys.executable, '$(PY)')}` {reports.duration(unit[0])}{' (FAILED)' if unit[1] else ''} + notebooks "
                 f"{reports.duration(quick_total)} = **{reports.duration(suite)}**{mark(suite, TARGETS['quick suite']) if whole else ''}"
                 if unit else f"notebooks only (unit tests not run): {reports.duration(quick_total)}")
    std_total = sum(e["seconds"] for e in std)
    build_line = ("not measured" if not std else
                  f"{reports.duration(std_total)} without {', '.join(missing)} (not in the index): incomplete" if missing else
                  f"**{reports.duration(std_total)}**{mark(std_total, TARGETS['standard build']) if whole else ' (only the notebooks named)'}")
    runs_table, warnings = table(notebooks, quick, standard, probe_here)
    probes = sorted({e["probe_img_s"] for e in std if e.get("probe_img_s")})
    text = f"""## Notebooks: run time and kernel memory

`python -m bench.bench_notebooks --standard {args.standard}`{partial}. Machine of the quick runs: {machine(helpers.device())}.
Data: {data}.

* **Quick mode**: {"not run (`--no-quick`)." if args.no_quick else f"run by this script, {time.strftime('%Y-%m-%d %H:%M')}, all in one run ({reports.duration(quick_wall)} in all): each notebook in a fresh kernel as `make test` runs it."}
* **Standard mode**: {source}
* **Kernel peak**: the notebook kernel's peak resident memory (Linux `VmHWM` of the kernel process, read
  after every cell by `tools.reports`; MB = 2^20 bytes). "Stated": the run time the notebook's first cell
  states (06: issue 7's 5 min). Where the notebook also states the speed probe of the machine it was measured
  on (`helpers.speed_probe()`, img/s of notebook 03's step), the stated standard time is first scaled to the
  probe `tools.reports` measured before running that notebook ({", ".join(f"{p:,.0f}" for p in probes) or "not recorded"}
  img/s), and the ratio measured / expected is shown: ⚠ beyond 1.5x either way. Quick times (this script's probe:
  {f"{probe_here:,.0f}" if probe_here else "not run"} img/s) and notebooks without a stated probe: ✓ within the
  stated time, ✗ over it by the percentage shown.

{runs_table}

| target | measured |
|---|---|
| whole standard-mode build < 45 min | {build_line} |
| quick test suite < 6 min | {unit_line} |
| every notebook kernel < 3 GB | {f"max **{max(peaks):,.0f} MB**{mark(max(peaks), TARGETS['memory_mb'])}" if peaks else "not recorded"} |
"""
    if warnings:
        text += "\n" + "\n".join(f"* {w}" for w in warnings) + "\n"
    write_section(args.out, args.section, text)
    print(text)
    for line in warnings:
        print(line, file=sys.stderr)


if __name__ == "__main__":
    main()
