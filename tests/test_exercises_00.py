"""Notebook 00's exercises: each check cell, run as the notebook has it, passes the reference and keeps the random
state, says "not done yet" for the stub, and names each of its mistakes and each planted one (the student edition in
a kernel: tests/test_student_edition.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.special import xlogy

from exercise_support import NotebookChecks, standard_tests
from helpers.exercises import Mistake
from helpers.lessons import objective_theory as reference

CHECKS = NotebookChecks("00_objective_theory.ipynb", reference, np=np, math=math, xlogy=xlogy, Mistake=Mistake)
EXERCISES = CHECKS.exercises
pytestmark = pytest.mark.usefixtures("one_thread")
TestEveryExercise = standard_tests(CHECKS)


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


@pytest.mark.parametrize("name, wrong, says", PLANTED, ids=[f"{n}-{s.split()[-1]}" for n, _, s in PLANTED])
def test_a_planted_mistake_is_named(name, wrong, says):
    message = CHECKS.failure(name, wrong)
    assert message.startswith(f"✗ {EXERCISES[name].label}: ") and says in message.partition(" — likely: ")[2], message
