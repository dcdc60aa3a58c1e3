"""Notebook 05's exercises: each check cell, run as the notebook has it, passes the reference, says "not done yet"
for a stub and names a planted mistake; ``search``, now split into the exercises, computes exactly what the one-piece
``search`` computed; the student edition has stubs and no solution line, and its checks pass with the solutions back.

The references are the notebook's solution cells (helpers.lessons.inversion_restoration); the fixed inputs and the
named mistakes are in helpers.exercise_cases.inversion_restoration. No kernel is started (`python -m tools.grade` on the built
notebook does the full run).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

import helpers
from exercise_support import NotebookChecks, standard_tests
from helpers import restore as R
from helpers.exercise_cases import inversion_restoration as ex
from helpers.lessons import inversion_restoration as reference
from tools import exercises as build

CHECKS = NotebookChecks("05_inversion_restoration.ipynb", reference, ex)
EXERCISES = CHECKS.exercises
pytestmark = pytest.mark.usefixtures("one_thread")   # tiny tensors for a few Adam steps: one thread is faster
TestEveryExercise = standard_tests(CHECKS)


def test_the_notebook_has_its_exercises():
    assert [(e.number, e.name, e.minutes) for e in EXERCISES.values()] == [
        ("5.1", "mse_data", 15), ("5.2", "l1_data", 10), ("5.3", "invert", 20)]
    opening = build.source(CHECKS.solution["cells"][0])
    assert all(f"{e.number} `{e.name}` ({e.minutes} min)" in opening for e in EXERCISES.values())


# Planted mistakes, written as a student would.

def mse_without_degradation(x, forward, y, observed):
    return ((x - y) * observed).pow(2).sum((2, 3, 4)) / observed.sum((1, 2, 3))


def mse_one_number(x, forward, y, observed):
    r = (forward(x.flatten(0, 1)).view_as(x) - y) * observed
    return r.pow(2).sum() / observed.sum()


def l1_over_all_pixels(x, forward, y, observed):
    return ((forward(x.flatten(0, 1)).view_as(x) - y) * observed).abs().mean((2, 3, 4))


def l1_that_is_l2(x, forward, y, observed):
    r = (forward(x.flatten(0, 1)).view_as(x) - y) * observed
    return (r ** 2).sum((2, 3, 4)) / observed.sum((1, 2, 3))


def student_invert(G, z, data_term, steps, lam, lr, shell, each_step, *, zero_grad=True, prior=True, grad=True,
                   keep_last=False, call_last=True):
    z = z.clone().requires_grad_(grad)
    opt = torch.optim.Adam([z], lr=lr)
    for t in range(steps + 1):
        x = helpers.to_unit(G(z.reshape(-1, z.shape[-1]))).reshape(*z.shape[:2], 1, 28, 28)
        data = data_term(x)
        if t < steps or call_last:
            each_step(t, x, data)
        if t == steps:
            break
        loss = data.sum() + (lam * ((z ** 2).sum(-1) / z.shape[-1] - shell) ** 2).sum() if prior else data.sum()
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        opt.step()
    best = torch.full((z.shape[1],), z.shape[0] - 1) if keep_last else data.argmin(0)
    x, z, data = x.detach(), z.detach(), data.detach()
    columns = torch.arange(z.shape[1])
    return {"x": x[best, columns], "z": z[best, columns], "best": best, "all_x": x, "all_z": z, "data": data}


def invert_with(**wrong):
    return lambda *args: student_invert(*args, **wrong)


@pytest.mark.parametrize("name, student, named", [
    ("mse_data", mse_without_degradation, "x is compared with y without applying the degradation"),
    ("mse_data", mse_one_number, "the data term has one value per restart and digit"),
    ("l1_data", l1_over_all_pixels, "the mean is over all 784 pixels, not over the observed ones"),
    ("l1_data", l1_that_is_l2, "the squared error (L2) where this exercise asks for the absolute error"),
    ("l1_data", reference.mse_data, "the squared error (L2) where this exercise asks for the absolute error"),
    ("invert", invert_with(keep_last=True), "every digit keeps the last restart"),
    ("invert", invert_with(zero_grad=False), "optimizer.zero_grad() is missing"),
    ("invert", invert_with(prior=False), "the prior term is missing"),
    ("invert", invert_with(grad=False), "z does not require grad"),
    ("invert", invert_with(call_last=False), "each_step is not called at every t"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 12 else None)
def test_a_planted_mistake_fails_with_its_name(name, student, named):
    message = CHECKS.failure(name, student)
    assert message.startswith(f"✗ {EXERCISES[name].label}") and "likely: " + named in message, message


def mse_written_differently(x, forward, y, observed):
    ax = forward(x.reshape(-1, 1, 28, 28)).reshape(x.shape)
    sq = torch.where(observed.bool(), (ax - y) ** 2, torch.zeros(()))
    return sq.flatten(2).sum(-1) / observed.flatten(1).sum(-1)


def test_right_answers_written_differently_pass():
    CHECKS.run_check("mse_data", mse_written_differently)
    CHECKS.run_check("invert", student_invert)   # reshape for view, z ** 2 / n_z, the prior summed apart


# search, split into the exercises, computes what the one-piece search of the notebook computed (copied here
# verbatim from before the split): the same random draws in the same order, the same arithmetic, bit for bit.

def one_piece_search(G, SHELL, y, forward=None, observed=None, loss="mse", steps=60, restarts=2, lam=0.1, lr=0.05,
                     seed=0, snapshot_at=(), watch=(), callback=None, every=10):
    n = len(y)
    forward = forward or (lambda x: x)
    w = torch.ones_like(y) if observed is None else observed.to(y.device).expand_as(y).to(y.dtype)
    z = torch.randn(restarts, n, G.nz, generator=torch.Generator().manual_seed(seed)).to(y.device).requires_grad_()
    opt = torch.optim.Adam([z], lr=lr)
    curve, snapshots = [], {}
    for t in range(steps + 1):
        x = helpers.to_unit(G(z.flatten(0, 1))).view(restarts, n, 1, 28, 28)
        r = (forward(x.flatten(0, 1)).view_as(x) - y) * w                    # residual on observed pixels
        data = (r.square() if loss == "mse" else r.abs()).sum((2, 3, 4)) / w.sum((1, 2, 3))   # (restarts, n)
        prior = (z.square().mean(-1) - SHELL).square()                          # (restarts, n)
        curve.append(data.detach().cpu())
        if t in snapshot_at:
            snapshots[t] = x.detach()[:, list(watch)].cpu()
        if callback is not None and t % every == 0:
            best = data.detach().argmin(0)
            callback(t, x.detach()[best, torch.arange(n)], float(data.detach().min(0).values.mean()))
        if t == steps:
            break
        opt.zero_grad()
        (data + lam * prior).sum().backward()    # a sum: each digit's z gets its own gradient, whatever n is
        opt.step()
    best = data.detach().argmin(0)                 # the restart with the lowest final data term, per digit
    pick_best = (best, torch.arange(n))
    return SimpleNamespace(x=x.detach()[pick_best], z=z.detach()[pick_best], all_x=x.detach(), all_z=z.detach(),
                           data=data.detach(),
                           curve=torch.stack(curve), snapshots=snapshots, best=best.cpu())


def small_conv_generator():
    """A small DCGAN-like generator, frozen and channels_last as the notebook's."""
    torch.manual_seed(3)
    G = nn.Sequential(nn.Linear(16, 32 * 7 * 7), nn.Unflatten(1, (32, 7, 7)), nn.BatchNorm2d(32), nn.ReLU(),
                      nn.ConvTranspose2d(32, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.ReLU(),
                      nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Tanh())
    G.nz = 16
    return G.eval().requires_grad_(False).to(memory_format=torch.channels_last)


@pytest.mark.parametrize("task", ["inversion", "denoising", "deblurring", "inpainting l1", "inpainting mse"])
def test_search_computes_what_the_one_piece_search_computed(task, monkeypatch):
    G = small_conv_generator()
    shell = float((torch.randn(1000, 16, generator=torch.Generator().manual_seed(0)) * 1.1).square().mean())
    monkeypatch.setattr(reference, "G", G, raising=False)
    monkeypatch.setattr(reference, "SHELL", shell, raising=False)
    op, loss = {"inversion": (None, "mse"), "denoising": (R.AddNoise(0.3, seed=1), "mse"),
                "deblurring": (R.Compose(R.GaussianBlur(1.5), R.AddNoise(0.02, seed=2)), "mse"),
                "inpainting l1": (R.Mask.half("bottom"), "l1"), "inpainting mse": (R.Mask.half("bottom"), "mse")}[task]
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    y = x if op is None else op(x)
    runs = []
    for search in (lambda **kw: one_piece_search(G, shell, **kw), reference.search):
        calls = []
        torch.manual_seed(7)
        result = search(y=y, forward=None if op is None else op.forward_model, observed=None if op is None else op.observed,
                        loss=loss, steps=5, restarts=3, lam=0.2, lr=0.05, seed=1, snapshot_at=(0, 2, 5), watch=[0, 2],
                        callback=lambda t, images, value: calls.append((t, images.clone(), value)), every=2)
        runs.append((vars(result), calls, torch.rand(1)))   # torch.rand: the global random state afterwards
    (old, old_calls, old_after), (new, new_calls, new_after) = runs
    assert set(old) == set(new)
    for key in old:
        if key == "snapshots":
            assert old[key].keys() == new[key].keys()
            assert all(torch.equal(old[key][t], new[key][t]) for t in old[key])
        else:
            assert old[key].dtype == new[key].dtype and torch.equal(old[key], new[key]), key
    assert [(t, v) for t, _, v in old_calls] == [(t, v) for t, _, v in new_calls]
    assert all(torch.equal(a, b) for (_, a, _), (_, b, _) in zip(old_calls, new_calls))
    assert torch.equal(old_after, new_after)


def test_the_student_edition_has_the_stubs_and_no_solution():
    text = CHECKS.student_text()
    assert "opt.zero_grad()" not in text and "r.abs()" not in text


def test_the_student_editions_check_cells_fail_as_is_and_pass_with_the_solutions_pasted_back():
    """The notebook's own exercise and check cells, run in one namespace (the rest of the notebook, which loads a
    generator and data, is left out: `python -m tools.grade` on the built edition does the full run)."""
    CHECKS.run_student_edition(CHECKS.namespace(references=False, np=np))
