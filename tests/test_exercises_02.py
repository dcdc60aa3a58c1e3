"""Notebook 02's exercises: each check cell, run as the notebook has it, passes the reference (and keeps the random
state), says "not done yet" for a stub, and names each planted mistake; the references compute exactly what
helpers.losses computes (the notebook trained with those before, and must give the same numbers); the student
edition builds without a solution line (in a kernel: tests/test_student_edition.py, `python -m tools.grade`).

The references are the notebook's solution cells (helpers.lessons.loss_saturation); the fixed inputs, what the
checks compare and the named mistakes are in helpers.exercise_cases.loss_saturation. No kernel is started.
"""
from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

import helpers
from exercise_support import NotebookChecks, standard_tests
from helpers import losses
from helpers.exercise_cases import loss_saturation as exercises
from helpers.lessons import loss_saturation as reference
from tools import exercises as build

CHECKS = NotebookChecks("02_loss_saturation.ipynb", reference, exercises)
EXERCISES = CHECKS.exercises
pytestmark = pytest.mark.usefixtures("one_thread")
TestEveryExercise = standard_tests(CHECKS)


def test_the_notebook_has_its_exercises():
    assert list(EXERCISES) == ["least_squares_losses", "hinge_losses", "wgan_gp_critic_loss"]
    assert [ex.number for ex in EXERCISES.values()] == ["2.1", "2.2", "2.3"]
    assert all(10 <= ex.minutes <= 20 for ex in EXERCISES.values())
    assert [len(CHECKS.check_options(name)["cases"]) for name in EXERCISES] == [2, 2, 2]


def test_each_exercise_names_at_least_two_mistakes_as_variants():
    """(each is recognised as itself: TestEveryExercise)"""
    assert all(len([m for m in CHECKS.mistakes(name) if m.like is not None]) >= 2 for name in EXERCISES)


# Planted mistakes, written as a student would.

def ls_targets_swapped(real_scores, fake_scores):
    return (0.5 * (real_scores ** 2).mean() + 0.5 * ((fake_scores - 1) ** 2).mean(),
            0.5 * ((fake_scores - 1) ** 2).mean())


def ls_g_target_zero(real_scores, fake_scores):
    mse = nn.MSELoss()
    loss_d = 0.5 * mse(real_scores, torch.ones_like(real_scores)) + 0.5 * mse(fake_scores, torch.zeros_like(fake_scores))
    return loss_d, 0.5 * mse(fake_scores, torch.zeros_like(fake_scores))


def ls_without_half(real_scores, fake_scores):
    mse = nn.MSELoss()
    return (mse(real_scores, torch.ones_like(real_scores)) + mse(fake_scores, torch.zeros_like(fake_scores)),
            mse(fake_scores, torch.ones_like(fake_scores)))


def ls_half_missing_in_g_only(real_scores, fake_scores):
    return reference.least_squares_losses(real_scores, fake_scores)[0], ((fake_scores - 1) ** 2).mean()


def ls_on_probabilities(real_scores, fake_scores):
    d_real, d_fake = torch.sigmoid(real_scores), torch.sigmoid(fake_scores)
    return 0.5 * ((d_real - 1) ** 2).mean() + 0.5 * (d_fake ** 2).mean(), 0.5 * ((d_fake - 1) ** 2).mean()


def ls_returns_d_only(real_scores, fake_scores):
    return 0.5 * ((real_scores - 1) ** 2).mean() + 0.5 * (fake_scores ** 2).mean()


def hinge_wrong_side(real_scores, fake_scores):
    return torch.relu(1 + real_scores).mean() + torch.relu(1 - fake_scores).mean(), -fake_scores.mean()


def hinge_sign_inside_relu(real_scores, fake_scores):
    return F.relu(real_scores - 1).mean() + F.relu(-fake_scores - 1).mean(), -fake_scores.mean()


def hinge_g_with_relu(real_scores, fake_scores):
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean(), F.relu(1 - fake_scores).mean()


def hinge_g_sign(real_scores, fake_scores):
    return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean(), fake_scores.mean()


def gp_with(real_scores, fake_scores, D, real, fake, lam=10.0, *, eps=None, create_graph=True, penalty=None):
    eps = torch.rand(len(real), 1, 1, 1) if eps is None else eps(real)
    x_hat = eps * real + (1 - eps) * fake
    x_hat.requires_grad_()
    grad = torch.autograd.grad(outputs=D(x_hat), inputs=x_hat, grad_outputs=torch.ones(len(real)),
                               create_graph=create_graph)[0]
    norms = grad.view(len(real), -1).norm(2, dim=1)
    gp = ((norms - 1) ** 2).mean() if penalty is None else penalty(grad, norms)
    return torch.mean(fake_scores) - torch.mean(real_scores) + lam * gp


def gp_squared_norm(*args, **kwargs):
    return gp_with(*args, **kwargs, penalty=lambda grad, norms: (grad ** 2).sum(dim=(1, 2, 3)).mean())


def gp_batch_norm(*args, **kwargs):
    return gp_with(*args, **kwargs, penalty=lambda grad, norms: (grad.norm(2) - 1) ** 2)


def gp_without_create_graph(*args, **kwargs):
    return gp_with(*args, **kwargs, create_graph=False)


def gp_one_epsilon(*args, **kwargs):
    return gp_with(*args, **kwargs, eps=lambda real: torch.rand(1))


@pytest.mark.parametrize("name, student, says", [
    ("least_squares_losses", ls_targets_swapped, "D's targets are swapped"),
    ("least_squares_losses", ls_g_target_zero, "G's target is wrong"),
    ("least_squares_losses", ls_without_half, "a factor ½ is missing"),
    ("least_squares_losses", ls_half_missing_in_g_only, "a factor ½ is missing"),
    ("least_squares_losses", ls_on_probabilities, "act on sigmoid(a)"),
    ("least_squares_losses", ls_returns_d_only, "return both losses, as the pair"),
    ("hinge_losses", hinge_wrong_side, "the margins are on the wrong side"),
    ("hinge_losses", hinge_sign_inside_relu, "the sign inside each relu is flipped"),
    ("hinge_losses", hinge_g_with_relu, "G's loss has a relu"),
    ("hinge_losses", hinge_g_sign, "G's loss has the wrong sign"),
    ("wgan_gp_critic_loss", gp_squared_norm, "the penalty is on ‖∇‖² (no - 1)"),
    ("wgan_gp_critic_loss", gp_batch_norm, "the norm is taken over the whole batch"),
    ("wgan_gp_critic_loss", gp_without_create_graph, "without create_graph=True"),
    ("wgan_gp_critic_loss", gp_one_epsilon, "one ε for the whole batch"),
], ids=lambda v: v.__name__ if callable(v) else None)
def test_a_planted_mistake_is_named(name, student, says):
    message = CHECKS.failure(name, student)
    assert message.startswith(f"✗ {EXERCISES[name].label}") and says in message.partition(" — likely: ")[2], message


def test_without_create_graph_only_the_critics_parameter_gradients_differ():
    message = CHECKS.failure("wgan_gp_critic_loss", gp_without_create_graph)
    assert "the gradient with respect to the critic's parameters differs" in message, message


def test_a_right_answer_written_differently_passes(capsys):
    CHECKS.run_check("least_squares_losses", lambda r, f: (0.5 * F.mse_loss(r, torch.ones_like(r)) + 0.5 * F.mse_loss(f, torch.zeros_like(f)),
                                                           0.5 * F.mse_loss(f, torch.ones_like(f))))
    CHECKS.run_check("hinge_losses", lambda r, f: (torch.clamp(1 - r, min=0).mean() + torch.clamp(1 + f, min=0).mean(), -torch.mean(f)))
    CHECKS.run_check("wgan_gp_critic_loss", gp_with)   # ε of shape (batch, 1, 1, 1), the gradient by grad_outputs, no detach
    assert capsys.readouterr().out.count("✓ Exercise") == 3


# The notebook trained with helpers.losses before it had exercises: the references must give the same numbers.

def test_the_references_compute_exactly_what_helpers_losses_computes():
    torch.manual_seed(0)
    real, fake = torch.randn(128, requires_grad=True), torch.randn(128, requires_grad=True)

    def gradients(loss):
        return [torch.zeros_like(x) if g is None else g
                for x, g in zip((real, fake), torch.autograd.grad(loss, (real, fake), retain_graph=True, allow_unused=True))]

    pairs = [(reference.least_squares_losses(real, fake), (losses.d_least_squares(real, fake), losses.g_least_squares(fake))),
             (reference.hinge_losses(real, fake), (losses.d_hinge(real, fake), losses.g_hinge(fake)))]
    for ours, theirs in pairs:
        for a, b in zip(ours, theirs):
            assert torch.equal(a, b)
            assert all(torch.equal(x, y) for x, y in zip(gradients(a), gradients(b)))


def test_the_critic_loss_is_helpers_losses_with_the_same_random_draw():
    def critic():
        torch.manual_seed(1)
        return helpers.MLPDiscriminator(hidden=(32, 16), dropout=0.15)   # with dropout, as in the notebook
    torch.manual_seed(2)
    real, fake = torch.rand(8, 1, 28, 28), torch.rand(8, 1, 28, 28)
    results = []
    for ours in (True, False):
        D = critic()
        torch.manual_seed(3)
        score_real, score_fake = D(real), D(fake)
        if ours:
            loss = reference.wgan_gp_critic_loss(score_real, score_fake, D, real, fake, lam=10.0)
        else:
            loss = losses.d_wasserstein(score_real, score_fake) + 10.0 * losses.gradient_penalty(D, real, fake)
        loss.backward()
        results.append((loss.detach(), [p.grad for p in D.parameters()], torch.rand(3)))   # the random state after
    (loss_a, grads_a, after_a), (loss_b, grads_b, after_b) = results
    assert torch.equal(loss_a, loss_b) and torch.equal(after_a, after_b)
    assert all(torch.equal(a, b) for a, b in zip(grads_a, grads_b))


def test_the_notebook_trains_with_the_exercises():
    text = "\n".join(build.source(c) for c in CHECKS.solution["cells"] if c["cell_type"] == "code")
    assert "losses.get_loss(" not in text and "losses.gradient_penalty(" not in text
    assert "wgan_gp_critic_loss(score_real, score_fake, D, real, fake, lam=loss.penalty)" in text
    assert "helpers.exercise_errors()" in text and "helpers.short_errors()" not in text


def test_the_student_edition_has_the_three_stubs_and_no_solution():
    text = CHECKS.student_text()
    for line in ("(grad,) = torch.autograd.grad(D(mix).sum(), mix, create_graph=True)", "F.relu(1 - real_scores)",
                 "0.5 * ((fake_scores - 1) ** 2)"):
        assert line not in text
