"""Grade a filled-in student notebook (``make grade NOTEBOOK=path``).

Runs the notebook in quick mode in a fresh kernel of this environment, going on after errors, then reads
every check cell (nbgrader metadata ``"grade": true``): passed when it raised nothing, with the one
sentence its check printed or raised. Prints one row per exercise and exits 1 if any failed.

    python -m tools.grade exercises/01_vanilla_gan.ipynb [--timeout 900] [--save graded.ipynb]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

ANSI = re.compile(r"\x1b\[[0-9;]*m")
CHECK_ID = re.compile(r"^ex(?P<major>\d+)_(?P<minor>\d+)-(?P<name>\w+)-check$")


@dataclass
class Row:
    exercise: str
    passed: bool
    message: str


def execute(path: Path, timeout: int) -> nbformat.NotebookNode:
    """The notebook run top to bottom in quick mode, every cell executed even after an error."""
    nb = nbformat.read(path, as_version=4)
    env = {"GAN_COURSE_LIVE": "0", "MPLBACKEND": "Agg", **os.environ, "GAN_COURSE_MODE": "quick"}
    env.setdefault("GAN_COURSE_CHECKPOINTS", tempfile.mkdtemp(prefix="gan-course-grade-"))
    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(nb, km=km, timeout=timeout, allow_errors=True,
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    # In the main thread nbclient takes over Ctrl-C and SIGTERM (it only cleans up, then waits on); in a
    # worker thread it does not, so Ctrl-C stops grading and the kernel with it.
    failure: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(failure, client.execute, env=env), daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.5)
    except KeyboardInterrupt:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        raise
    if failure:
        raise failure[0]
    return nb


def _capture(failure: list, fn, **kwargs) -> None:
    try:
        fn(**kwargs)
    except BaseException as err:  # noqa: BLE001 - re-raised in the main thread
        failure.append(err)


def _text(cell, name: str) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == name)


def results(nb) -> list[Row]:
    """One row per check cell, in notebook order."""
    rows = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        match = CHECK_ID.match(meta.get("grade_id", ""))
        exercise = f"{match['major']}.{match['minor']} {match['name']}" if match else meta.get("grade_id", "?")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            ename, evalue = errors[0].get("ename", "Error"), ANSI.sub("", errors[0].get("evalue", "")).strip()
            ours = ename in ("ExerciseFailed", "ExerciseNotDone")  # their message is the check's own sentence
            rows.append(Row(exercise, False, evalue if ours and evalue else f"{ename}: {evalue}"))
            continue
        said = [line for line in _text(cell, "stdout").splitlines() if line.startswith(("✓", "✗"))]
        rows.append(Row(exercise, bool(cell.get("execution_count")),
                        said[-1] if said else "ran without error" if cell.get("execution_count") else "did not run"))
    return rows


def table(rows: list[Row]) -> str:
    width = max([len("exercise")] + [len(r.exercise) for r in rows])
    lines = [f"{'exercise':<{width}}  result  message", f"{'-' * width}  ------  -------"]
    lines += [f"{r.exercise:<{width}}  {'passed' if r.passed else 'FAILED':<6}  {r.message}" for r in rows]
    passed = sum(r.passed for r in rows)
    lines.append(f"{passed} of {len(rows)} exercises passed.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebook", type=Path, help="a filled-in student notebook, e.g. exercises/01_vanilla_gan.ipynb")
    parser.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell (default 900)")
    parser.add_argument("--save", type=Path, help="also write the executed notebook here")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        print(f"{args.notebook} is not a notebook file; give the path of a filled-in student notebook.", file=sys.stderr)
        return 2
    try:
        nb = execute(args.notebook, args.timeout)
    except KeyboardInterrupt:
        print("Grading interrupted; the kernel is shut down.", file=sys.stderr)
        return 130
    if args.save:
        args.save.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = results(nb)
    if not rows:
        print(f"{args.notebook} has no check cells (nbgrader metadata \"grade\": true); nothing to grade.", file=sys.stderr)
        return 1
    print(table(rows))
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
