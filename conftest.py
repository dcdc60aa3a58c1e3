"""pytest settings for the unit tests and for `pytest --nbval notebooks`.

* Quick mode unless GAN_COURSE_MODE says otherwise, so the whole suite runs in minutes on a CPU.
* Checkpoints go to a temporary folder: tests never touch the user's data/checkpoints. The notebook
  kernels that nbval starts inherit these variables.
* Under pytest-xdist (``make test`` runs the unit tests with ``-n auto``) each worker uses one torch thread.
"""
import os
import tempfile

os.environ.setdefault("GAN_COURSE_MODE", "quick")
os.environ.setdefault("GAN_COURSE_CHECKPOINTS", tempfile.mkdtemp(prefix="gan-course-checkpoints-"))
os.environ.setdefault("GAN_COURSE_LIVE", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("PYTEST_XDIST_WORKER"):   # `make test` runs the unit tests in several workers (pytest-xdist):
    os.environ.setdefault("OMP_NUM_THREADS", "1")   # one torch thread each, or the workers fight over the cores


# --- nbval: the exercises' check cells, graded as tools/grade.py grades a student notebook -----------------
# Under `pytest --nbval notebooks`, each notebook's check cells (nbgrader "grade": true) are collected with what
# they printed or raised, and the run ends with the same table `make grade` prints: the solution edition is the
# student edition with the solutions pasted back (tests/test_student_edition.py checks that, cell by cell).
_GRADED: dict[str, list] = {}


def _is_check_cell(item) -> bool:
    cell = getattr(item, "cell", None)
    return cell is not None and cell.get("cell_type") == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade", False)


import pytest  # noqa: E402 - after the environment above is set


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and _is_check_cell(item):
        import nbformat
        from tools.grade import results
        ran = nbformat.from_dict({**item.cell, "outputs": list(item.test_outputs or []), "execution_count": 1})
        row, = results(nbformat.from_dict({"cells": [ran]}))
        if not report.passed and row.passed:  # nbval failed it for another reason (e.g. its output changed)
            row.passed, row.message = False, f"nbval: {report.longreprtext.strip().splitlines()[0] if report.longreprtext else 'failed'}"
        _GRADED.setdefault(item.parent.name, []).append(row)


def pytest_terminal_summary(terminalreporter):
    if not _GRADED:
        return
    from tools.grade import table
    terminalreporter.section("exercises, graded as `make grade` grades a filled-in student notebook")
    for notebook, rows in _GRADED.items():
        terminalreporter.write_line(notebook)
        terminalreporter.write_line(table(rows))
