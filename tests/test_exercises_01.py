"""Notebook 01's exercises: each check cell, run as the notebook has it, passes the reference and keeps the random
state, says "not done yet" for a stub, and names each planted mistake; the student edition builds without a
solution line, its check cells fail as is and pass with the solutions pasted back; the step split into exercises
computes what it computed before.

The references are the notebook's solution cells (helpers.lessons.vanilla_gan); the fixed inputs and the named
mistakes are in helpers.exercise_cases.vanilla_gan. No kernel is started: `python -m tools.grade` on the built
edition does the full run.
"""
import copy

import pytest
import torch
from torch import nn

import helpers
from exercise_support import NotebookChecks, standard_tests
from helpers.exercise_cases import vanilla_gan as ex
from helpers.lessons import vanilla_gan as reference

CHECKS = NotebookChecks("01_vanilla_gan.ipynb", reference, ex, nn=nn)
EXERCISES = CHECKS.exercises
pytestmark = pytest.mark.usefixtures("one_thread")
TestEveryExercise = standard_tests(CHECKS)
bce = nn.BCEWithLogitsLoss()


def test_the_notebook_has_its_exercises():
    assert [f"{e.number} {e.name}" for e in EXERCISES.values()] == ["1.1 update_D", "1.2 update_G", "1.3 who_is_winning"]
    assert [e.minutes for e in EXERCISES.values()] == [15, 15, 10]
    assert all(e.check == e.cell + 1 for e in EXERCISES.values())   # each check right under its exercise


# Planted mistakes, written as a student would.

def update_D_without_detach(D, opt_D, real, fake):
    score_real, score_fake = D(real), D(fake)
    loss = bce(score_real, torch.ones_like(score_real)) + bce(score_fake, torch.zeros_like(score_fake))
    opt_D.zero_grad()
    loss.backward()
    opt_D.step()
    return loss, torch.sigmoid(score_real).mean(), torch.sigmoid(score_fake).mean()


def update_D_swapped_labels(D, opt_D, real, fake):
    score_real, score_fake = D(real), D(fake.detach())
    loss = bce(score_real, torch.zeros_like(score_real)) + bce(score_fake, torch.ones_like(score_fake))
    opt_D.zero_grad()
    loss.backward()
    opt_D.step()
    return loss, torch.sigmoid(score_real).mean(), torch.sigmoid(score_fake).mean()


def update_D_without_zero_grad(D, opt_D, real, fake):
    score_real, score_fake = D(real), D(fake.detach())
    loss = bce(score_real, torch.ones_like(score_real)) + bce(score_fake, torch.zeros_like(score_fake))
    loss.backward()
    opt_D.step()
    return loss, torch.sigmoid(score_real).mean(), torch.sigmoid(score_fake).mean()


OTHER = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)   # the notebook's global opt_G, as a slip reaches it


def update_D_stepping_another_optimizer(D, opt_D, real, fake):
    score_real, score_fake = D(real), D(fake.detach())
    loss = bce(score_real, torch.ones_like(score_real)) + bce(score_fake, torch.zeros_like(score_fake))
    opt_D.zero_grad()
    loss.backward()
    OTHER.step()
    return loss, torch.sigmoid(score_real).mean(), torch.sigmoid(score_fake).mean()


def update_D_one_mean(D, opt_D, real, fake):
    scores = D(torch.cat([real, fake.detach()]))
    labels = torch.cat([torch.ones(len(real)), torch.zeros(len(fake))])
    loss = bce(scores, labels)
    opt_D.zero_grad()
    loss.backward()
    opt_D.step()
    p = torch.sigmoid(scores)
    return loss, p[: len(real)].mean(), p[len(real):].mean()


def update_G_saturating_by_default(G, D, opt_G, fake, saturating=False):
    score = D(fake)
    loss = -bce(score, torch.zeros_like(score))   # log(1 - D(G(z))) in both cases
    opt_G.zero_grad()
    loss.backward()
    norm = torch.cat([p.grad.flatten() for p in G.parameters()]).norm()
    opt_G.step()
    return loss, torch.sigmoid(score).mean(), norm


def update_G_without_zero_grad(G, D, opt_G, fake, saturating=False):
    score = D(fake)
    loss = -bce(score, torch.zeros_like(score)) if saturating else bce(score, torch.ones_like(score))
    loss.backward()
    norm = nn.utils.clip_grad_norm_(G.parameters(), float("inf"))
    opt_G.step()
    return loss, torch.sigmoid(score).mean(), norm


def update_G_stepping_another_optimizer(G, D, opt_G, fake, saturating=False):
    score = D(fake)
    loss = -bce(score, torch.zeros_like(score)) if saturating else bce(score, torch.ones_like(score))
    opt_G.zero_grad()
    loss.backward()
    norm = nn.utils.clip_grad_norm_(G.parameters(), float("inf"))
    OTHER.step()
    return loss, torch.sigmoid(score).mean(), norm


def update_G_right_but_written_differently(G, D, opt_G, fake, saturating=False):
    p = torch.sigmoid(D(fake))
    loss = torch.log1p(-p).mean() if saturating else -torch.log(p).mean()
    G.zero_grad()
    loss.backward()
    norm = torch.cat([q.grad.flatten() for q in G.parameters()]).norm()
    opt_G.step()
    return loss.item(), p.mean().item(), norm


def update_D_right_but_written_differently(D, opt_D, real, fake):
    scores = D(torch.cat([real, fake.detach()]))
    s_real, s_fake = scores[: len(real)], scores[len(real):]
    loss = nn.functional.softplus(-s_real).mean() + nn.functional.softplus(s_fake).mean()   # -log σ(a), -log(1 - σ(a))
    D.zero_grad()
    loss.backward()
    opt_D.step()
    return loss.item(), torch.sigmoid(s_real).mean().item(), torch.sigmoid(s_fake).mean().item()


def who_is_winning_by_d_x_alone(d_x, d_g_z, margin=0.05):
    real, fake = float(d_x.mean()), float(d_g_z.mean())
    if real > 0.9 and fake < 0.1:
        return "D has won"
    if abs(real - 0.5) <= margin:   # "D(x) = 1/2: the game has converged"
        return "even"
    return "G leads" if fake > real else "D leads"


def who_is_winning_last_line(d_x, d_g_z, margin=0.05):
    real, fake = float(d_x[-1]), float(d_g_z[-1])
    if real > 0.9 and fake < 0.1:
        return "D has won"
    if abs(real - fake) <= margin:
        return "even"
    return "G leads" if fake > real else "D leads"


@pytest.mark.parametrize("name, student, named", [
    ("update_D", update_D_without_detach, "not detached"),
    ("update_D", update_D_swapped_labels, "labels are swapped"),
    ("update_D", update_D_without_zero_grad, "opt_D.zero_grad() is missing"),
    ("update_D", update_D_stepping_another_optimizer, "D's parameters did not move"),
    ("update_D", update_D_one_mean, "averaged over real and fake images together"),
    ("update_G", update_G_saturating_by_default, "that is the saturating loss"),
    ("update_G", update_G_without_zero_grad, "opt_G.zero_grad() is missing"),
    ("update_G", update_G_stepping_another_optimizer, "G's parameters did not move"),
    ("who_is_winning", who_is_winning_by_d_x_alone, "D(x) near 1/2 on its own is not a draw"),
    ("who_is_winning", who_is_winning_last_line, "last logged step only"),
])
def test_a_planted_mistake_fails_with_its_name(name, student, named):
    message = CHECKS.failure(name, student)
    assert message.startswith(f"✗ {EXERCISES[name].label}") and named in message.partition(" — likely: ")[2], message


@pytest.mark.parametrize("name, student", [("update_D", update_D_right_but_written_differently),
                                           ("update_G", update_G_right_but_written_differently)])
def test_a_right_answer_written_differently_passes(name, student, capsys):
    CHECKS.run_check(name, student)
    assert capsys.readouterr().out.startswith(f"✓ {EXERCISES[name].label} matches")


# The step as notebook 01 wrote it before it was split into exercises: the solutions compute exactly the same.

def original_update_D(D, opt_D, real, fake):
    score_real, score_fake = D(real), D(fake.detach())
    loss = bce(score_real, torch.ones_like(score_real)) + bce(score_fake, torch.zeros_like(score_fake))
    opt_D.zero_grad()
    loss.backward()
    opt_D.step()
    return loss, torch.sigmoid(score_real).mean(), torch.sigmoid(score_fake).mean()


def original_update_G(G, D, opt_G, fake, saturating=False):
    score = D(fake)
    loss = -bce(score, torch.zeros_like(score)) if saturating else bce(score, torch.ones_like(score))
    opt_G.zero_grad()
    loss.backward()
    grad_norm = nn.utils.clip_grad_norm_(G.parameters(), float("inf"))
    opt_G.step()
    return loss, torch.sigmoid(score).mean(), grad_norm


@pytest.mark.parametrize("saturating", [False, True])
def test_the_step_computes_what_it_computed_before(saturating, monkeypatch):
    torch.manual_seed(0)
    G = helpers.MLPGenerator(nz=reference.NZ, hidden=(32,)).to(reference.dev)
    D = helpers.MLPDiscriminator(hidden=(32,), dropout=0.15).to(reference.dev)
    real = (torch.rand(3, 16, 1, 28, 28) * 2 - 1).to(reference.dev)
    runs = []
    for update_D, update_G in ((reference.update_D, reference.update_G), (original_update_D, original_update_G)):
        monkeypatch.setattr(reference, "update_D", update_D)
        monkeypatch.setattr(reference, "update_G", update_G)
        g, d = copy.deepcopy(G), copy.deepcopy(D)
        opts = [torch.optim.Adam(m.parameters(), lr=reference.LR, betas=(0.5, 0.999)) for m in (g, d)]
        step = reference.make_step(g, d, *opts, saturating=saturating)
        torch.manual_seed(1)
        runs.append(([step(batch, None) for batch in real], g, d))
        monkeypatch.undo()
    (new, g_new, d_new), (old, g_old, d_old) = runs
    assert all(torch.equal(torch.as_tensor(a[k]), torch.as_tensor(b[k])) for a, b in zip(new, old) for k in b)
    for m_new, m_old in ((g_new, g_old), (d_new, d_old)):
        assert all(torch.equal(p, q) for p, q in zip(m_new.parameters(), m_old.parameters()))


# The student edition.

def test_the_student_edition_has_the_stubs_and_no_solution():
    text = CHECKS.student_text()
    assert "fake.detach())" not in text and "loss_g = " not in text and "mean_real" not in text


def test_the_student_editions_check_cells_fail_as_is_and_pass_with_the_solutions_pasted_back():
    """The notebook's own exercise and check cells, run in one namespace (the rest of the notebook, which trains
    for a minute, is left out)."""
    CHECKS.run_student_edition(CHECKS.namespace(references=False))
