"""Notebook 06's exercises: each reference passes its own check, a stub is "not done yet", a planted mistake is named.

The references are the notebook's solution cells (helpers.lessons.evaluation); the fixed inputs and the named
mistakes are in helpers.exercise_cases.evaluation. No kernel is started: the student edition's exercise and check
cells run in-process (`python -m tools.grade` on the whole notebook takes about 50 s in quick mode).
"""
import json
import re

import numpy as np
import pytest
import torch

import helpers
from helpers.exercise_cases import evaluation as ex
from helpers.exercises import ExerciseFailed, ExerciseNotDone, check_exercise
from helpers.lessons import evaluation as reference
from tools import exercises as build

CHECKS = {  # name: (reference, cases, mistakes)
    "6.1 memorization": (reference.memorization, ex.MEMORIZATION_CASES, ex.MEMORIZATION_MISTAKES),
    "6.2 frechet": (reference.frechet, ex.FRECHET_CASES, ex.FRECHET_MISTAKES),
    "6.3 precision_recall": (reference.precision_recall, ex.PRECISION_RECALL_CASES, ex.PRECISION_RECALL_MISTAKES),
}


def check(name, student):
    ref, cases, mistakes = CHECKS[name]
    return check_exercise(name, student, ref, cases=cases, mistakes=mistakes)


def failure(name, student) -> str:
    with pytest.raises(ExerciseFailed) as err:
        check(name, student)
    return str(err.value)


@pytest.mark.parametrize("name", CHECKS)
def test_the_reference_passes_its_own_check_and_keeps_the_random_state(name, capsys):
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    assert check(name, CHECKS[name][0])
    assert torch.equal(torch.rand(1), before)
    assert capsys.readouterr().out.startswith(f"✓ Exercise {name.split()[0]} ({name.split()[1]}) matches the reference")


@pytest.mark.parametrize("name", CHECKS)
def test_a_stub_is_not_done_yet(name):
    def stub(*args, **kwargs):
        raise NotImplementedError(f"Exercise {name.split()[0]} ({name.split()[1]}): write it.")
    with pytest.raises(ExerciseNotDone, match=r"is not done yet: write it\."):
        check(name, stub)


@pytest.mark.parametrize("name", CHECKS)
def test_every_named_mistake_is_recognised_as_itself(name):
    """Each variant fails the check with its own hint (so the inputs tell the mistakes apart)."""
    for mistake in CHECKS[name][2]:
        assert f"likely: {mistake.message}." in failure(name, mistake.like), mistake.message


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
    ("6.1 memorization", memorization_to_held_out, "nearest held-out digit"),
    ("6.1 memorization", memorization_squared, "distances are squared"),
    ("6.2 frechet", frechet_elementwise_sqrt, "square root was taken elementwise"),
    ("6.2 frechet", frechet_without_trace, "trace term is missing"),
    ("6.3 precision_recall", precision_recall_counting_itself, "its own nearest neighbour"),
    ("6.3 precision_recall", precision_recall_swapped, "precision and recall are swapped"),
])
def test_a_planted_mistake_fails_with_its_name(name, student, named):
    message = failure(name, student)
    assert message.startswith(f"✗ Exercise {name.split()[0]}") and named in message, message


@pytest.mark.filterwarnings("ignore:Matrix is singular")   # scipy's sqrtm on the input with a dead feature
def test_a_right_answer_written_differently_passes():
    assert check("6.2 frechet", frechet_with_scipy)


NOTEBOOK = build.ROOT / "notebooks" / "06_evaluation.ipynb"


def test_the_student_edition_has_the_three_stubs_and_no_solution():
    path = NOTEBOOK
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert [f"{e.number} {e.name}" for e in build.find_exercises(nb, path.name)] == list(CHECKS)
    student = build.student_edition(nb, path.name)
    text = "\n".join(build.source(c) for c in student["cells"])
    for name in CHECKS:
        number, fn = name.split()
        assert f'raise NotImplementedError("Exercise {number} ({fn}): ' in text
    assert "kthvalue(k + 1" not in text and "np.linalg.eigvals" not in text


def test_the_student_editions_check_cells_fail_as_is_and_pass_with_the_solutions_pasted_back(capsys):
    """The notebook's own exercise and check cells, run in one namespace (the rest of the notebook, which loads
    data and takes a minute, is left out: `python -m tools.grade` on the built edition does the full run)."""
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    student = build.student_edition(nb, NOTEBOOK.name)
    found = build.find_exercises(nb, NOTEBOOK.name)
    namespace = {"helpers": helpers, "exercises": ex, "reference": reference, "np": np, "torch": torch}
    for e in found:
        exec(build.source(student["cells"][e.cell]), namespace)
        with pytest.raises(ExerciseNotDone, match="^✗ " + re.escape(f"{e.label} is not done yet: ")):
            exec(build.source(student["cells"][e.check]), namespace)
    for e in found:   # the round trip: each stub replaced by the solution's lines
        lines = build.source(student["cells"][e.cell]).split("\n")
        at = next(i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
        exec("\n".join(lines[:at] + list(e.solution) + lines[at + 2:]), namespace)
        exec(build.source(student["cells"][e.check]), namespace)
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("✓ Exercise")]
    assert len(said) == len(found) == 3
