"""What tests/test_exercises_NN.py share: a notebook's exercises, checked through the notebook's own check cells.

``NotebookChecks("01_vanilla_gan.ipynb", reference, cases, nn=nn)`` reads the notebook (the solution edition) and
finds its exercises; ``run_check(name, student)`` runs exercise ``name``'s check cell as the notebook has it, with
``student`` as the exercise's function. No kernel is started (`python -m tools.grade` on the built edition does the
full run). ``standard_tests(checks)`` gives the tests every such notebook has, ``run_student_edition`` the round
trip of its student edition.

The test modules import it as ``from exercise_support import ...``: pytest's default (prepend) import mode puts
tests/, a folder without __init__.py, on sys.path, for ``pytest tests`` as for ``pytest tests/test_exercises_03.py``.
"""
from __future__ import annotations

import contextlib
import io
import json
import re
from types import ModuleType

import pytest
import torch

import helpers
from helpers.exercises import ExerciseFailed, ExerciseNotDone, Mistake
from tools import exercises as build


class _Recording:
    """``helpers`` as a check cell sees it, but ``check_exercise`` only records what it was given."""

    def __init__(self):
        self.calls: dict[str, dict] = {}

    def __getattr__(self, name):
        return getattr(helpers, name)

    def check_exercise(self, exercise, student, reference, cases, **options):
        self.calls[exercise.split()[-1]] = {"cases": cases, **options}
        return True


class NotebookChecks:
    """A notebook's exercises (``exercises``: name → :class:`tools.exercises.Exercise`, in order) and their checks.

    A check cell runs in a namespace holding ``helpers``, ``torch``, the ``names`` given (the notebook's other
    imports its check cells use), ``reference``, ``exercises`` (the module of fixed inputs and named mistakes),
    every exercise's reference function, and then the student's. The earlier check cells run first, their
    ``check_exercise`` calls only recorded: a later cell may use what an earlier one defines (notebook 00's)."""

    def __init__(self, notebook_filename: str, reference: ModuleType, cases_module: ModuleType | None = None, **names):
        self.path = build.ROOT / "notebooks" / notebook_filename
        self.solution = json.loads(self.path.read_text(encoding="utf-8"))
        self.exercises = {e.name: e for e in build.find_exercises(self.solution, self.path.name)}
        self.reference, self.cases_module, self.names = reference, cases_module, names

    def namespace(self, *, references: bool = True, **more) -> dict:
        """What the notebook's cells see (without the exercises' reference functions: ``references=False``)."""
        space = {"helpers": helpers, "torch": torch, **self.names, "reference": self.reference}
        if self.cases_module is not None:
            space["exercises"] = self.cases_module
        if references:
            space.update({n: getattr(self.reference, n) for n in self.exercises})
        space.update(more)
        return space

    def _check_cell(self, name: str) -> str:
        return build.source(self.solution["cells"][self.exercises[name].check])

    def _run_up_to(self, name: str, space: dict, last_for_real: bool) -> _Recording:
        recording = _Recording()
        for e in self.exercises.values():
            real = last_for_real and e.name == name
            space["helpers"] = helpers if real else recording
            exec(self._check_cell(e.name), space)  # noqa: S102 - the notebook's own check cell
            if e.name == name:
                return recording
        raise KeyError(name)

    def run_check(self, name: str, student) -> None:
        """Exercise ``name``'s check cell, with ``student`` as the exercise's function (prints ✓ or raises)."""
        self._run_up_to(name, self.namespace(**{name: student}), last_for_real=True)

    def check_options(self, name: str) -> dict:
        """What exercise ``name``'s check cell gives check_exercise: ``cases``, ``mistakes``, ``observe``, ..."""
        return self._run_up_to(name, self.namespace(), last_for_real=False).calls[name]

    def mistakes(self, name: str) -> list[Mistake]:
        return list(self.check_options(name).get("mistakes", ()))

    def failure(self, name: str, student) -> str:
        """The one sentence with which ``name``'s check fails ``student`` (the test fails if it passes)."""
        with pytest.raises(ExerciseFailed) as err:
            self.run_check(name, student)
        return str(err.value)

    def stub(self, name: str):
        """The function as the student edition has it: it raises the stub's NotImplementedError."""
        e = self.exercises[name]

        def stub(*args, **kwargs):
            raise NotImplementedError(f"{e.label}: {e.task}")
        return stub

    # The student edition.

    def student_edition(self) -> dict:
        return build.student_edition(self.solution, self.path.name)

    def student_text(self) -> str:
        """The student edition's code, once checked to have every stub and no line of a solution."""
        student = self.student_edition()
        assert build.leaked_lines(self.solution, student, self.path.name) == []
        text = "\n".join(build.source(c) for c in student["cells"])
        for e in self.exercises.values():
            assert f'raise NotImplementedError("{e.label}: ' in text, e.label
        return text

    def run_student_edition(self, space: dict, before_filling=None) -> list[str]:
        """The student edition's exercise and check cells, run in ``space``: as is, every check says "not done
        yet"; then, each stub replaced by the solution's lines, every check passes. ``before_filling(student,
        space)`` runs in between. Returns the ✓ lines the checks printed."""
        student = self.student_edition()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            for e in self.exercises.values():
                exec(build.source(student["cells"][e.cell]), space)  # noqa: S102
                with pytest.raises(ExerciseNotDone, match="^✗ " + re.escape(f"{e.label} is not done yet: ")):
                    exec(build.source(student["cells"][e.check]), space)  # noqa: S102
            if before_filling is not None:
                before_filling(student, space)
            for e in self.exercises.values():   # the round trip: each stub replaced by the solution's lines
                lines = build.source(student["cells"][e.cell]).split("\n")
                at = next(i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
                exec("\n".join(lines[:at] + list(e.solution) + lines[at + 2:]), space)  # noqa: S102
                exec(build.source(student["cells"][e.check]), space)  # noqa: S102
        said = [line for line in out.getvalue().splitlines() if line.startswith("✓ Exercise")]
        assert len(said) == len(self.exercises), out.getvalue()
        return said


def standard_tests(checks: NotebookChecks) -> type:
    """The tests every notebook with exercises has, as a class for the test module to name ``Test...``: for each
    exercise, the reference passes its own check (on all its fixed inputs) and keeps the random state, and a stub
    is "not done yet"; each named mistake written as a variant (``Mistake(like=...)``) fails with its own hint."""
    names = list(checks.exercises)
    variants = []
    for n in names:
        for k, m in enumerate(checks.mistakes(n)):
            if m.like is not None:
                variants.append(pytest.param(n, m, id=f"{n}-{k}"))

    class StandardTests:
        @pytest.mark.parametrize("name", names)
        def test_the_reference_passes_its_own_check_and_keeps_the_random_state(self, name, capsys):
            torch.manual_seed(5)
            before = torch.rand(3)
            torch.manual_seed(5)
            checks.run_check(name, getattr(checks.reference, name))
            assert torch.equal(torch.rand(3), before)
            n = len(checks.check_options(name)["cases"])
            said = f"✓ {checks.exercises[name].label} matches the reference on {n} fixed input{'s' if n != 1 else ''}."
            assert capsys.readouterr().out == said + "\n"

        @pytest.mark.parametrize("name", names)
        def test_a_stub_is_not_done_yet(self, name):
            e = checks.exercises[name]
            with pytest.raises(ExerciseNotDone, match="^✗ " + re.escape(f"{e.label} is not done yet: {e.task.rstrip('.')}.") + "$"):
                checks.run_check(name, checks.stub(name))

        @pytest.mark.parametrize("name, mistake", variants)
        def test_every_named_mistake_is_recognised_as_itself(self, name, mistake):
            message = checks.failure(name, mistake.like)
            assert message.startswith(f"✗ {checks.exercises[name].label}: ") and f" — likely: {mistake.message}." in message, message

    return StandardTests
