"""Build the student edition: ``exercises/NN_name.ipynb`` from ``notebooks/NN_name.ipynb`` (``make exercises``).

The notebooks stay the one source (the solution edition). An exercise is a solution region in a code cell,
in nbgrader's markers, with its header on the line right above::

    # Exercise 1.2 · update_D (10 min): one step of D on a real and a fake batch; return D's loss.
    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

followed by a check cell that calls ``check_exercise("1.2 update_D", ...)``. The solution cell carries
nbgrader's solution metadata (``grade_id`` ``ex1_2-update_D``), the check cell nbgrader's graded-test
metadata (``ex1_2-update_D-check``, 1 point), so nbgrader imports the notebooks unchanged;
``--mark`` writes that metadata into the notebooks. The student edition has outputs cleared and each
region replaced, at its indentation, by ``# YOUR CODE HERE`` and ``raise NotImplementedError("Exercise 1.2
(update_D): <the header's task>")``; the build fails if any line of a solution is left in it.

    python -m tools.exercises               # notebooks/ -> exercises/
    python -m tools.exercises --list        # the exercises and their estimated times
    python -m tools.exercises --mark        # add nbgrader's metadata to the notebooks' exercise cells
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from nbconvert.preprocessors import Preprocessor

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HEADER = re.compile(r"^\s*# Exercise (?P<number>\d+\.\d+) · (?P<name>[A-Za-z_]\w*) \((?P<minutes>\d+) min\): (?P<task>\S.*)$")


class ExerciseFormatError(ValueError):
    """A notebook's exercise markers or metadata do not follow the convention (the message says which)."""


@dataclass(frozen=True)
class Exercise:
    number: str
    name: str
    minutes: int
    task: str
    cell: int        # index of the solution cell
    check: int       # index of its check cell
    solution: tuple[str, ...]  # the lines between the markers

    @property
    def label(self) -> str:
        return f"Exercise {self.number} ({self.name})"

    @property
    def grade_id(self) -> str:
        return f"ex{self.number.replace('.', '_')}-{self.name}"

    def solution_metadata(self) -> dict:
        return {"grade": False, "grade_id": self.grade_id, "locked": False, "schema_version": 3, "solution": True}

    def check_metadata(self) -> dict:
        return {"grade": True, "grade_id": f"{self.grade_id}-check", "locked": True, "points": 1,
                "schema_version": 3, "solution": False}

    def stub(self, indent: str) -> list[str]:
        message = f"{self.label}: {self.task}"
        return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"]


def source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _regions(text: str, where: str):
    """(header match, indentation, begin line, end line) for each solution region of a cell's source."""
    lines, found, begin = text.split("\n"), [], None
    for i, line in enumerate(lines):
        if line.strip() == BEGIN:
            if begin is not None:
                raise ExerciseFormatError(f"{where}: a {BEGIN} inside another solution region.")
            header = HEADER.match(lines[i - 1]) if i > 0 else None
            if header is None:
                raise ExerciseFormatError(f"{where}: the line above {BEGIN} must be the exercise's header, "
                                          "'# Exercise 1.2 · update_D (10 min): <what to write>'.")
            begin = (header, line[: len(line) - len(line.lstrip())], i)
        elif line.strip() == END:
            if begin is None:
                raise ExerciseFormatError(f"{where}: an {END} without its {BEGIN}.")
            found.append((*begin, i))
            begin = None
    if begin is not None:
        raise ExerciseFormatError(f"{where}: a {BEGIN} without its {END}.")
    return found


def find_exercises(nb: dict, name: str) -> list[Exercise]:
    """The notebook's exercises, in order; raises :class:`ExerciseFormatError` on a broken convention."""
    exercises: list[Exercise] = []
    for c, cell in enumerate(nb["cells"]):
        regions = _regions(source(cell), f"{name}, cell {c}") if cell["cell_type"] == "code" else []
        if len(regions) > 1:
            raise ExerciseFormatError(f"{name}, cell {c}: one exercise per cell (nbgrader grades a cell), this one has {len(regions)}.")
        for header, _, begin, end in regions:
            number, ex_name = header["number"], header["name"]
            call = re.compile(r"check_exercise\(\s*[\"']" + re.escape(f"{number} {ex_name}") + r"[\"']")
            check = next((k for k in range(c + 1, len(nb["cells"]))
                          if nb["cells"][k]["cell_type"] == "code" and call.search(source(nb["cells"][k]))), None)
            if check is None:
                raise ExerciseFormatError(f"{name}: Exercise {number} ({ex_name}) has no check cell after it "
                                          f"calling check_exercise(\"{number} {ex_name}\", ...).")
            lines = source(cell).split("\n")[begin + 1:end]
            exercises.append(Exercise(number, ex_name, int(header["minutes"]), header["task"], c, check, tuple(lines)))
    numbers = [e.number for e in exercises]
    if len(set(numbers)) != len(numbers):
        raise ExerciseFormatError(f"{name}: exercise numbers repeat ({', '.join(numbers)}).")
    return exercises


def mark(nb: dict, name: str) -> bool:
    """Write nbgrader's metadata on every exercise's solution and check cell; True if anything changed."""
    changed = False
    for ex in find_exercises(nb, name):
        for index, meta in ((ex.cell, ex.solution_metadata()), (ex.check, ex.check_metadata())):
            if nb["cells"][index]["metadata"].get("nbgrader") != meta:
                nb["cells"][index]["metadata"]["nbgrader"] = meta
                changed = True
    return changed


def _verify_metadata(nb: dict, name: str, exercises: list[Exercise]) -> None:
    for ex in exercises:
        for index, meta, what in ((ex.cell, ex.solution_metadata(), "solution"), (ex.check, ex.check_metadata(), "check")):
            if nb["cells"][index]["metadata"].get("nbgrader") != meta:
                raise ExerciseFormatError(f"{name}: {ex.label}'s {what} cell lacks nbgrader's metadata "
                                          f"{json.dumps(meta)}; run python -m tools.exercises --mark.")


def student_edition(nb: dict, name: str) -> dict:
    """The notebook with outputs cleared and every solution region replaced by its stub."""
    exercises = find_exercises(nb, name)
    _verify_metadata(nb, name, exercises)
    out = copy.deepcopy(nb)
    for cell in out["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    for ex in exercises:
        cell = out["cells"][ex.cell]
        lines = source(cell).split("\n")
        (_, indent, begin, end), = _regions(source(cell), name)
        text = "\n".join(lines[:begin] + ex.stub(indent) + lines[end + 1:])
        cell["source"] = text if isinstance(cell["source"], str) else text.splitlines(keepends=True)
    leaks = leaked_lines(nb, out, name)
    if leaks:
        raise ExerciseFormatError(f"{name}: solution lines also appear outside their region, so the student "
                                  f"edition would show them: {leaks[:3]}; reword them.")
    return out


class StudentEdition(Preprocessor):
    """The same as an nbconvert preprocessor: ``resources["name"]`` names the notebook in error messages."""

    def preprocess(self, nb, resources):
        return student_edition(nb, resources.get("name", "notebook")), resources


def leaked_lines(solution_nb: dict, student_nb: dict, name: str) -> list[str]:
    """Lines of any solution region (stripped, with a letter or digit) found anywhere in the student edition."""
    solution = {line.strip() for ex in find_exercises(solution_nb, name) for line in ex.solution
                if re.search(r"\w", line)}
    student = {line.strip() for cell in student_nb["cells"] for line in source(cell).split("\n")}
    return sorted(solution & student)


def write(nb: dict, path: Path) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def build(notebooks: Path, out: Path) -> list[tuple[Path, list[Exercise]]]:
    """Write the student edition of every notebook in ``notebooks`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    built = []
    for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        student, _ = StudentEdition().preprocess(nb, {"name": path.name})
        write(student, out / path.name)
        built.append((out / path.name, find_exercises(nb, path.name)))
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", help="the solution edition (default notebooks/)")
    parser.add_argument("--out", type=Path, default=ROOT / "exercises", help="where to write the student edition")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--list", action="store_true", help="list the exercises and their estimated times")
    group.add_argument("--mark", action="store_true", help="add nbgrader's metadata to the exercise cells in place")
    args = parser.parse_args(argv)
    try:
        if args.list or args.mark:
            for path in sorted(args.notebooks.glob("[0-9][0-9]_*.ipynb")):
                nb = json.loads(path.read_text(encoding="utf-8"))
                if args.mark and mark(nb, path.name):
                    write(nb, path)
                    print(f"marked {path.name}")
                for ex in find_exercises(nb, path.name) if args.list else []:
                    print(f"{path.stem}  {ex.number} {ex.name} ({ex.minutes} min): {ex.task}")
            return 0
        built = build(args.notebooks, args.out)
    except ExerciseFormatError as err:
        print(err, file=sys.stderr)
        return 1
    total = sum(len(exs) for _, exs in built)
    print(f"Wrote {len(built)} notebooks with {total} exercises "
          f"({sum(e.minutes for _, exs in built for e in exs)} min in all) to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
