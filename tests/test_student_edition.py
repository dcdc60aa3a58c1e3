"""The student edition of every notebook with exercises: it builds, no solution line is left in it, and pasting
the solutions back gives the solution edition cell for cell (but nbgrader's marker comments), so the nbval run of notebooks/ (which ends with the
graded table, see conftest.py) is the run of the filled-in student edition.

Graded in a kernel (each notebook twice: as is, every check says "not done yet"; filled, every check passes)
takes about 30 s per notebook on a 2-core CPU, so it runs only with GAN_COURSE_SLOW=1; the check cells' own
messages on stubs and planted mistakes are tested in process by tests/test_exercises_NN.py.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tools import exercises as build
from tools import grade

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in NOTEBOOKS}
WITH_EXERCISES = [name for name, nb in SOLUTIONS.items() if build.find_exercises(nb, name)]


def fill(student: dict, solution: dict, name: str) -> dict:
    """The student edition with every stub replaced by the solution's lines."""
    nb = json.loads(json.dumps(student))
    for ex in build.find_exercises(solution, name):
        lines = build.source(nb["cells"][ex.cell]).split("\n")
        at = next(i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
        assert "NotImplementedError" in lines[at + 1] and ex.label in lines[at + 1], lines[at + 1]
        nb["cells"][ex.cell]["source"] = "\n".join(lines[:at] + list(ex.solution) + lines[at + 2:])
    return nb


def without_markers(text: str) -> str:
    """The source as a student's filled-in cell has it: nbgrader's marker lines are comments the stub replaced."""
    return "\n".join(line for line in text.split("\n") if line.strip() not in (build.BEGIN, build.END))


def test_every_notebook_has_at_least_three_exercises():
    counts = {name: len(build.find_exercises(nb, name)) for name, nb in SOLUTIONS.items()}
    assert all(n >= 3 for n in counts.values()), counts


@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_student_edition_builds_without_a_solution_line_and_round_trips(name):
    solution = SOLUTIONS[name]
    student = build.student_edition(solution, name)
    assert build.leaked_lines(solution, student, name) == []
    assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")
    filled = fill(student, solution, name)
    assert [c["cell_type"] for c in filled["cells"]] == [c["cell_type"] for c in solution["cells"]]
    assert [c.get("id") for c in filled["cells"]] == [c.get("id") for c in solution["cells"]]
    assert [build.source(c) for c in filled["cells"]] == [without_markers(build.source(c)) for c in solution["cells"]]
    assert [c["metadata"].get("nbgrader") for c in filled["cells"]] == [c["metadata"].get("nbgrader") for c in solution["cells"]]


@pytest.mark.skipif(os.environ.get("GAN_COURSE_SLOW") != "1",
                    reason="runs each notebook twice in a kernel (about 30 s each on a 2-core CPU); GAN_COURSE_SLOW=1 runs it")
@pytest.mark.parametrize("name", WITH_EXERCISES)
def test_student_edition_graded_as_is_and_filled(name, tmp_path, capsys):
    solution = SOLUTIONS[name]
    exercises = build.find_exercises(solution, name)
    student = build.student_edition(solution, name)
    folder = ROOT / "notebooks"  # the notebooks find the course's data relative to their folder
    paths = {kind: folder / f".grading-{kind}-{os.getpid()}-{name}" for kind in ("as_is", "filled")}
    try:
        build.write(student, paths["as_is"])
        build.write(fill(student, solution, name), paths["filled"])
        code, out = grade.main([str(paths["as_is"]), "--timeout", "600"]), capsys.readouterr().out
        assert code == 1, out
        for ex in exercises:
            assert re.search(rf"^{re.escape(ex.number)} {ex.name} +FAILED  ✗ {re.escape(ex.label)} is not done yet", out, re.M), out
        assert f"0 of {len(exercises)} exercises passed." in out
        code, out = grade.main([str(paths["filled"]), "--timeout", "600"]), capsys.readouterr().out
        assert code == 0, out
        assert f"{len(exercises)} of {len(exercises)} exercises passed." in out
    finally:
        for path in paths.values():
            path.unlink(missing_ok=True)
