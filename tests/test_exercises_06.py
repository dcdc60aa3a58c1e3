"""Notebook 06's exercises: each check cell, run as the notebook has it, passes the reference and keeps the random
state, says "not done yet" for a stub, and names each of its mistakes and each planted one.

The references are the notebook's solution cells (helpers.lessons.evaluation); the fixed inputs and the named
mistakes are in helpers.exercise_cases.evaluation. No kernel is started: the student edition's exercise and check
cells run in-process (`python -m tools.grade` on the whole notebook takes about 50 s in quick mode).
"""
import numpy as np
import pytest
import torch

from exercise_support import NotebookChecks, standard_tests
from helpers.exercise_cases import evaluation as ex
from helpers.lessons import evaluation as reference

CHECKS = NotebookChecks("06_evaluation.ipynb", reference, ex)
EXERCISES = CHECKS.exercises
pytestmark = pytest.mark.usefixtures("one_thread")
TestEveryExercise = standard_tests(CHECKS)


def test_the_notebook_has_its_exercises():
    assert [f"{e.number} {e.name}" for e in EXERCISES.values()] == ["6.1 memorization", "6.2 frechet", "6.3 precision_recall"]


# Planted mistakes, written as a student would.

def memorization_to_held_out(x, train, held, quantile=0.05):
    def nearest(a, b):
        return torch.cdist(a.flatten(1), b.flatten(1)).min(1).values
    dx, dh = nearest(x, held), nearest(held, train)   # wrong: samples against held-out digits
    return float((dx < torch.quantile(dh, quantile)).float().mean()), float(dx.median() / dh.median())


def memorization_squared(x, train, held, quantile=0.05):
    def nearest(a):
        return ((a.flatten(1)[:, None] - train.flatten(1)[None]) ** 2).sum(2).min(1).values   # no square root
    dx, dh = nearest(x), nearest(held)
    return float((dx < torch.quantile(dh, quantile)).float().mean()), float(dx.median() / dh.median())


def frechet_elementwise_sqrt(fx, fr):
    fx, fr = fx.double().numpy(), fr.double().numpy()
    cov_x, cov_r = np.cov(fx.T), np.cov(fr.T)
    sqrt_product = np.sqrt(np.abs(cov_x @ cov_r))   # wrong: the square root of each entry
    return float(((fx.mean(0) - fr.mean(0)) ** 2).sum() + np.trace(cov_x) + np.trace(cov_r) - 2 * np.trace(sqrt_product))


def frechet_without_trace(fx, fr):
    return float(((fx.double().mean(0) - fr.double().mean(0)) ** 2).sum())


def frechet_with_scipy(fx, fr):   # a right answer written differently: scipy's matrix square root
    import scipy.linalg
    fx, fr = fx.double().numpy(), fr.double().numpy()
    cov_x, cov_r = np.cov(fx.T), np.cov(fr.T)
    root = scipy.linalg.sqrtm(cov_x @ cov_r).real
    return float(((fx.mean(0) - fr.mean(0)) ** 2).sum() + np.trace(cov_x + cov_r - 2 * root))


def precision_recall_counting_itself(fx, fr, k=3):
    rr = torch.cdist(fr, fr).sort(1).values[:, k - 1]   # wrong: column 0 is the point itself
    rx = torch.cdist(fx, fx).sort(1).values[:, k - 1]
    d = torch.cdist(fx, fr)                            # (samples, real)
    return (d <= rr[None]).any(1).double().mean().item(), (d.T <= rx[None]).any(1).double().mean().item()


def precision_recall_swapped(fx, fr, k=3):
    precision, recall = reference.precision_recall(fx, fr, k)
    return recall, precision


@pytest.mark.parametrize("name, student, named", [
    ("memorization", memorization_to_held_out, "nearest held-out digit"),
    ("memorization", memorization_squared, "distances are squared"),
    ("frechet", frechet_elementwise_sqrt, "square root was taken elementwise"),
    ("frechet", frechet_without_trace, "trace term is missing"),
    ("precision_recall", precision_recall_counting_itself, "its own nearest neighbour"),
    ("precision_recall", precision_recall_swapped, "precision and recall are swapped"),
])
def test_a_planted_mistake_fails_with_its_name(name, student, named):
    message = CHECKS.failure(name, student)
    assert message.startswith(f"✗ {EXERCISES[name].label}") and named in message, message


@pytest.mark.filterwarnings("ignore:Matrix is singular")   # scipy's sqrtm on the input with a dead feature
def test_a_right_answer_written_differently_passes(capsys):
    CHECKS.run_check("frechet", frechet_with_scipy)
    assert capsys.readouterr().out.startswith(f"✓ {EXERCISES['frechet'].label} matches")


def test_the_student_edition_has_the_three_stubs_and_no_solution():
    text = CHECKS.student_text()
    assert "kthvalue(k + 1" not in text and "np.linalg.eigvals" not in text


def test_the_student_editions_check_cells_fail_as_is_and_pass_with_the_solutions_pasted_back():
    """The notebook's own exercise and check cells, run in one namespace (the rest of the notebook, which loads
    data and takes a minute, is left out: `python -m tools.grade` on the built edition does the full run)."""
    CHECKS.run_student_edition(CHECKS.namespace(references=False, np=np))
