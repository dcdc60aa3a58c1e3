"""Notebook 00's exercises: each check cell, run as the notebook has it, passes the reference, says "not done
yet" for the stub, and names a planted mistake (the student edition in a kernel: tests/test_student_edition.py)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.special import xlogy

import helpers
from helpers.exercises import ExerciseFailed, ExerciseNotDone, Mistake
from helpers.lessons import objective_theory as reference
from tools import exercises as build

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "00_objective_theory.ipynb"
SOLUTION = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
EXERCISES = {ex.name: ex for ex in build.find_exercises(SOLUTION, NOTEBOOK.name)}


def run_checks(name: str, student) -> None:
    """Run the notebook's check cells up to ``name``'s, with ``student`` as that exercise's function (the
    earlier ones solved by the reference: later check cells reuse what earlier ones define)."""
    space = {"helpers": helpers, "torch": torch, "np": np, "math": math, "xlogy": xlogy, "Mistake": Mistake,
             "reference": reference, **{n: getattr(reference, n) for n in EXERCISES}, name: student}
    for ex in EXERCISES.values():
        exec(build.source(SOLUTION["cells"][ex.check]), space)  # noqa: S102 - the notebook's own check cell
        if ex.name == name:
            return


def stub(name):
    def fn(*args):
        raise NotImplementedError(f"{EXERCISES[name].label}: {EXERCISES[name].task}")
    return fn


def js_with_log(p, q, dx):  # np.log instead of xlogy: 0 * log 0 is NaN
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(0.5 * np.sum(p * np.log(2 * p / (p + q)) + q * np.log(2 * q / (p + q))) * dx)


PLANTED = [  # (exercise, a plausible wrong answer, what the check must say)
    ("optimal_discriminator", lambda p_data, p_g: p_g / (p_data + p_g), "p_data and p_g are swapped"),
    ("optimal_discriminator", lambda p_data, p_g: p_data / p_g, "density ratio"),
    ("js_divergence", lambda p, q, dx: float(np.sum(xlogy(p, p) - xlogy(p, (p + q) / 2) + xlogy(q, q) - xlogy(q, (p + q) / 2)) * dx),
     "the ½ on each KL term is missing"),
    ("js_divergence", lambda p, q, dx: js_with_log(p, q, dx), "0 · log 0 gave NaN"),
    ("js_divergence", lambda p, q, dx: float(0.5 * np.sum(xlogy(p, p) - xlogy(p, (p + q) / 2) + xlogy(q, q) - xlogy(q, (p + q) / 2)) * dx / math.log(2)),
     "log base 2"),
    ("saturating_grad", lambda a: torch.sigmoid(a), "the sign is flipped"),
    ("saturating_grad", lambda a: -1 / (1 - torch.sigmoid(a)), "with respect to D's output"),
    ("nonsaturating_grad", lambda a: -1 / torch.sigmoid(a), "with respect to D's output"),
    ("nonsaturating_grad", lambda a: 1 - torch.sigmoid(a), "the sign is flipped"),
    ("nonsaturating_grad", lambda a: -torch.sigmoid(a), "the saturating loss's gradient"),
]


def test_the_notebook_has_its_exercises():
    assert list(EXERCISES) == ["optimal_discriminator", "js_divergence", "saturating_grad", "nonsaturating_grad"]
    assert [ex.number for ex in EXERCISES.values()] == ["0.1", "0.2", "0.3", "0.4"]


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_reference_passes_its_own_check(name, capsys):
    run_checks(name, getattr(reference, name))
    assert capsys.readouterr().out.strip().split("\n")[-1].startswith(f"✓ {EXERCISES[name].label} matches the reference")


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_stub_is_not_done_yet(name):
    with pytest.raises(ExerciseNotDone, match=rf"^✗ {EXERCISES[name].label.replace('(', '[(]').replace(')', '[)]')} is not done yet"):
        run_checks(name, stub(name))


@pytest.mark.parametrize("name, wrong, says", PLANTED, ids=[f"{n}-{s.split()[-1]}" for n, _, s in PLANTED])
def test_a_planted_mistake_is_named(name, wrong, says):
    with pytest.raises(ExerciseFailed, match="likely: .*" + says.replace("(", "[(]").replace(")", "[)]")):
        run_checks(name, wrong)
