"""Execute the course notebooks and export them as HTML reports that work offline.

``python -m tools.reports`` (``make reports``) runs every ``notebooks/NN_*.ipynb`` in order and
writes ``reports/NN_*.html`` plus ``reports/index.html``; ``reports/index.json`` records each run's
wall time, the kernel's peak memory, when and on which machine (``make bench`` reads it).
Options: ``--mode quick|standard|full``, ``--only NAME`` (repeatable), ``--out DIR``;
``--fetch-assets`` only fetches the web assets below. Every notebook runs even when one fails; the exit
status is then 1 and the last lines name each failed notebook with its error (a failed ``helpers.check``:
the claim and what was measured).

nbconvert's ``lab`` template loads MathJax, require.js and the widget renderer (``embed-amd.js``
from ``@jupyter-widgets/html-manager``) from public CDNs. The reports use local copies instead,
copied into ``<out>/_static/`` and referenced relatively, so a report opens without a network
(:mod:`tools.web_assets`: MathJax from a PyPI package, require.js and the widget html-manager from npm).

Notebooks in the repo are never modified: only the HTML is written.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import platform
import sys
import time
from datetime import datetime
from importlib import import_module, util
from pathlib import Path
from typing import NamedTuple

import nbformat
from jinja2 import DictLoader
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter

from helpers.config import MODES, ROOT, CourseError
from helpers.probe import speed_probe
from tools.web_assets import MATHJAX_URL, REQUIRE_JS_URL, WIDGET_RENDERER_URL, fetch_web_assets, install_static

NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 3600  # seconds per cell: standard-mode training cells can take many minutes on a CPU

# The lab template with three changes: jupyter-server-mathjax ships only the STIX-Web fonts (MathJax
# would otherwise look for its TeX fonts); the mermaid loader is dropped (it imports from a CDN and
# the course has no mermaid diagrams); widgets get JupyterLab's UI font (they inherit the page font,
# which the lab template leaves at the browser's serif default).
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block extra_css -%}
<style type="text/css">
.jupyter-widgets { font-family: var(--jp-ui-font-family); }
</style>
{%- endblock extra_css -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});
</script>
{{ super() }}
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


# --------------------------------------------------------------------------- execute and export
class Execution(NamedTuple):
    nb: nbformat.NotebookNode
    seconds: float                   # wall time from kernel start to kernel shutdown
    error: str | None                # None on success, else one line
    peak_memory_mb: float | None     # the kernel's peak resident memory (MB = 2**20 bytes), None if unknown


def kernel_peak_memory_mb(pid: int) -> float | None:
    """Peak resident memory of process ``pid`` in MB (2**20 bytes), or None if it cannot be read.

    Linux keeps the exact peak in ``VmHWM`` of ``/proc/<pid>/status`` (the "high water mark" of the
    resident set, threads included, children not), so no allocation spike is missed between reads.
    Elsewhere psutil's current RSS is the best available; sampled after every cell it is a lower bound.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except Exception:  # psutil missing, process gone or not accessible
        return None


def machine_summary() -> str:
    """One line naming this machine: CPU model, logical CPUs, OS; recorded with each report's timing."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                    if line.startswith("model name")), cpu)
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def execute_notebook(path: Path | str, mode: str = "standard", allow_errors: bool = False) -> Execution:
    """Run a notebook (cwd = its folder, kernel ``python3``, ``GAN_COURSE_MODE=mode``).

    Returns ``Execution(nb, seconds, error, peak_memory_mb)``: ``error`` is None on success, else one
    line (e.g. ``"ValueError: bad input"``, or for a failed ``helpers.check`` its sentence naming the
    claim: ``"The claim '...' does not hold in this run (...)."``); the notebook then holds the outputs up to the failing
    cell, its traceback included. ``peak_memory_mb`` is the kernel's peak resident memory, read
    after every cell (see :func:`kernel_peak_memory_mb`). The file on disk is not changed. With
    ``allow_errors`` every cell runs even after one fails (``bench/seed_spread.py`` reads every claim).
    """
    if mode not in MODES:
        raise CourseError(f"Mode {mode!r} is not a run mode; use one of {', '.join(MODES)}.")
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=allow_errors,
        store_widget_state=True,  # saved into nb.metadata.widgets, which the HTML embeds
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    peaks = []

    def record_memory(**_):  # nbclient calls this after each cell, while the kernel still runs
        process = getattr(getattr(client.km, "provisioner", None), "process", None)
        peak = kernel_peak_memory_mb(process.pid) if process is not None else None
        if peak is not None:
            peaks.append(peak)

    client.on_cell_executed = record_memory
    error = None
    start = time.perf_counter()
    try:
        client.execute(env={**os.environ, "GAN_COURSE_MODE": mode})
    except CellExecutionError as err:  # the traceback is in the failing cell's outputs
        if err.ename == "ClaimFailed":   # helpers.check: its message names the claim and what was measured
            error = err.evalue
        else:
            error = f"{err.ename}: {err.evalue}" if err.ename else str(err)
    except (CellTimeoutError, DeadKernelError) as err:
        error = f"{type(err).__name__}: {err}"
    if error is not None:
        error = (error.strip().splitlines() or ["unknown error"])[0]
        client.set_widgets_metadata()  # execute() only does this after the last cell
    return Execution(nb, time.perf_counter() - start, error, round(max(peaks), 1) if peaks else None)


def slowest_cells(nb: nbformat.NotebookNode, top: int | None = 8) -> list[dict]:
    """The ``top`` code cells that took longest (all of them with ``top=None``), from the timestamps nbclient records in each cell's metadata:
    ``[{"cell": index counted from 0 among all cells, "seconds": ..., "first_line": ...}]``, slowest first."""
    found = []
    for index, cell in enumerate(nb.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if cell.cell_type != "code" or not began or not ended:
            continue
        seconds = (datetime.fromisoformat(ended.replace("Z", "+00:00"))
                   - datetime.fromisoformat(began.replace("Z", "+00:00"))).total_seconds()
        first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
        found.append({"cell": index, "seconds": round(seconds, 1), "first_line": first[:100]})
    return sorted(found, key=lambda c: -c["seconds"])[:top]


def export_html(nb: nbformat.NotebookNode, out_path: Path | str, source_dir: Path | str | None = None) -> Path:
    """Write ``nb`` as a lab-style HTML page whose scripts load from ``_static/`` beside it.

    Images are inline; ``source_dir`` (the notebook's folder) resolves images linked from markdown.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    install_static(out_path.parent)
    exporter = HTMLExporter(
        template_name="lab",
        template_file="offline.html.j2",
        extra_loaders=[DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})],
        mathjax_url=MATHJAX_URL,
        require_js_url=REQUIRE_JS_URL,
        widget_renderer_url=WIDGET_RENDERER_URL,
        embed_images=True,  # markdown images too; PNG outputs are inline anyway
    )
    resources = {"metadata": {"name": notebook_title(nb, out_path.stem), "path": str(source_dir or Path.cwd())}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out_path.write_text(body, encoding="utf-8")
    return out_path


# --------------------------------------------------------------------------- index page
def _title_and_summary(nb: nbformat.NotebookNode) -> tuple[str | None, str | None]:
    """The ``# title`` line and the first text line after it in the markdown cells."""
    title = summary = None
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            line = line.strip()
            if title is None:
                if line.startswith("# "):
                    title = line[2:].strip()
            elif line and not line.startswith("#"):
                return title, line
    return title, summary


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    return _title_and_summary(nb)[0] or fallback


def notebook_summary(nb: nbformat.NotebookNode) -> str:
    """``metadata.course.summary`` if set, else the first line after the ``# title`` line."""
    summary = nb.metadata.get("course", {}).get("summary")
    return summary or _title_and_summary(nb)[1] or ""


def _memory(mb: float | None) -> str:
    return "–" if mb is None else f"{mb:,.0f} MB"


def duration(seconds: float) -> str:
    """A duration as reports/index.html shows it: "48.2 s", "4 min 51 s"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


INDEX_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1.5rem; }
th, td { text-align: left; padding: .55rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { white-space: nowrap; font-size: .85rem; text-transform: uppercase; letter-spacing: .04em; color: #555; }
td.num { white-space: nowrap; text-align: right; font-variant-numeric: tabular-nums; }
a { color: #1a5fb4; text-decoration: none; font-weight: 600; }
a:hover { text-decoration: underline; }
.summary { color: #333; }
.failed { color: #b00020; font-weight: 600; }
.error { display: block; color: #b00020; font-size: .9rem; margin-top: .25rem; }
.ok { color: #2e7d32; }
section.scoreboard { margin-top: 2.5rem; }
"""


def build_index(out_dir: Path | str, entries: list[dict]) -> Path:
    """Write ``out_dir/index.html`` listing the reports.

    Each entry: ``name`` (e.g. ``01_vanilla_gan``), ``html`` (file name), ``title``, ``summary``,
    ``seconds``, ``mode``, ``error`` (None or one line); optional ``peak_memory_mb`` (shown as the
    kernel's peak memory), ``finished`` and ``machine`` (when and where it ran, kept in index.json).
    If ``helpers.scoreboard.scoreboard_html()`` exists, its HTML fragment is included after the table.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    esc = html.escape
    rows = []
    for e in sorted(entries, key=lambda e: e["name"]):
        status = (
            f'<span class="failed">failed</span><span class="error">{esc(e["error"])}</span>'
            if e.get("error") else '<span class="ok">ok</span>'
        )
        rows.append(
            f'<tr><td><a href="{esc(e["html"])}">{esc(e.get("title") or e["name"])}</a>'
            f'<br><small>{esc(e["name"])}</small></td>'
            f'<td class="summary">{esc(e.get("summary") or "")}</td>'
            f'<td>{esc(e.get("mode", ""))}</td><td class="num">{duration(e.get("seconds", 0.0))}</td>'
            f'<td class="num">{_memory(e.get("peak_memory_mb"))}</td>'
            f"<td>{status}</td></tr>"
        )
    scoreboard = ""
    if util.find_spec("helpers.scoreboard") is not None:  # added by a later part of the course
        fragment = getattr(import_module("helpers.scoreboard"), "scoreboard_html", None)
        if fragment is not None:
            scoreboard = f'<section class="scoreboard">{fragment()}</section>'
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GANs on MNIST: course reports</title>
<style>{INDEX_CSS}</style>
</head>
<body>
<h1>GANs on MNIST: course reports</h1>
<p class="meta">Each notebook executed top to bottom; built {datetime.now():%Y-%m-%d %H:%M}. Peak memory: the
notebook kernel's peak resident memory (MB = 2<sup>20</sup> bytes).</p>
<table>
<thead><tr><th>Notebook</th><th>What it covers</th><th>Mode</th><th>Wall time</th><th>Peak memory</th><th>Status</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
{scoreboard}
</body>
</html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- command line
def course_notebooks(only: list[str] | None = None) -> list[Path]:
    """``notebooks/NN_*.ipynb`` in order, or the ones named in ``only`` (``01_vanilla_gan[.ipynb]``)."""
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not only:
        return found
    by_name = {p.stem: p for p in found}
    chosen = []
    for name in only:
        stem = Path(name).stem
        if stem not in by_name:
            raise CourseError(
                f"There is no notebook {name!r} in notebooks/; choose from {', '.join(by_name) or 'none'}."
            )
        chosen.append(by_name[stem])
    return sorted(set(chosen))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.reports", description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=MODES, default="standard", help="run mode for the kernels (default: standard)")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this notebook, e.g. 01_vanilla_gan (repeatable)")
    parser.add_argument("--out", default="reports", type=Path, help="output folder (default: reports)")
    parser.add_argument("--fetch-assets", action="store_true", help="only fetch the offline web assets, then exit")
    args = parser.parse_args(argv)
    os.environ["GAN_COURSE_MODE"] = args.mode   # the index's scoreboard is measured in the kernels' mode
    try:
        if args.fetch_assets:
            fetch_web_assets()
            return 0
        notebooks = course_notebooks(args.only)
        install_static(args.out)  # fails early if the web assets are missing
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    # Results of earlier runs stay in the index when --only rebuilds some reports; reports whose
    # notebook or HTML is gone are dropped. The index is rewritten after every notebook.
    record = args.out / "index.json"
    entries = {e["name"]: e for e in (json.loads(record.read_text()) if record.exists() else [])}
    current = {p.stem for p in course_notebooks()}
    failed = []
    for i, path in enumerate(notebooks, 1):
        # The machine's speed just before the run, so that a run time can be compared with the one stated
        # in the notebook (measured on another machine, with its probe): bench/bench_notebooks.py does this.
        probe = None if args.mode == "quick" else round(speed_probe())
        print(f"[{i}/{len(notebooks)}] {path.stem} ({args.mode}) ..." + (f" speed probe {probe:,} img/s" if probe else ""),
              flush=True)
        nb, seconds, error, peak = execute_notebook(path, args.mode)
        html_path = export_html(nb, args.out / f"{path.stem}.html", source_dir=path.parent)
        entries[path.stem] = {
            "name": path.stem, "html": html_path.name, "title": notebook_title(nb, path.stem),
            "summary": notebook_summary(nb), "seconds": round(seconds, 1), "mode": args.mode, "error": error,
            "peak_memory_mb": peak, "finished": datetime.now().isoformat(timespec="seconds"),
            "machine": machine_summary(), "probe_img_s": probe, "slowest_cells": slowest_cells(nb),
        }
        print(f"    {'FAILED' if error else 'ok'} in {duration(seconds)}, kernel peak {_memory(peak)} -> {html_path}"
              + (f"\n    {error}" if error else ""), flush=True)
        if error:
            failed.append(f"{path.stem}: {error}")
        entries = {k: e for k, e in entries.items() if k in current and (args.out / e["html"]).exists()}
        record.write_text(json.dumps(sorted(entries.values(), key=lambda e: e["name"]), indent=1))
        build_index(args.out, list(entries.values()))
    print(f"index: {build_index(args.out, list(entries.values()))}")
    if failed:   # every other report is written; the exit status tells make (and CI) that a claim or a cell failed
        print(f"{len(failed)} notebook(s) failed:", file=sys.stderr)
        for line in failed:
            print(f"FAILED {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
