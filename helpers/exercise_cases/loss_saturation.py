"""Notebook 02's exercise checks: the fixed inputs, what each check compares, and the typical mistakes it names.

The check cells compare the student's function with the reference in ``helpers.lessons.loss_saturation`` (the
notebook's own solution cells, the same formulas as :mod:`helpers.losses`) on these small inputs, built inside the
check under a fixed seed. Each mistake is a wrong variant with the reference's signature: when the student's
results match a variant's on every input, the check's sentence names that mistake.

* 2.1 ``least_squares_losses`` and 2.2 ``hinge_losses`` take D's raw scores on real and fake images and return
  (D's loss, G's loss); the checks compare both values and their gradients with respect to the scores.
* 2.3 ``wgan_gp_critic_loss`` takes the scores, a small fixed critic and the images; the check compares the loss
  and the gradient it gives the critic's parameters (without ``create_graph=True`` the penalty gives none).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..exercises import NOT_DIFFERENTIABLE, Inputs, Mistake

# --- 2.1 and 2.2: (D's loss, G's loss) from D's raw scores on real and fake images -------------------------

SCORE_CASES = [   # scores on both sides of 0 and of the hinge margins ±1; the two batches differ in size
    lambda: (torch.tensor([-2.5, -0.6, 0.4, 1.3, 3.0], dtype=torch.float64, requires_grad=True),
             torch.tensor([-3.2, -1.4, -0.3, 0.7, 2.2, 0.95], dtype=torch.float64, requires_grad=True)),
    lambda: ((2 * torch.randn(16, dtype=torch.float64) + 0.5).requires_grad_(True),
             (2 * torch.randn(12, dtype=torch.float64) - 0.5).requires_grad_(True)),
]


def _grad(loss, x):
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        return NOT_DIFFERENTIABLE
    (g,) = torch.autograd.grad(loss, x, retain_graph=True, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


def both_losses(out, real_scores, fake_scores):
    """What the checks of 2.1 and 2.2 compare: both losses, and their gradients with respect to the scores."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        return {"the output": out}   # the check then says "D's loss is missing (yours gives the output instead)"
    loss_d, loss_g = out
    return {"D's loss": loss_d, "G's loss": loss_g,
            "the gradient of D's loss with respect to the real scores": _grad(loss_d, real_scores),
            "the gradient of D's loss with respect to the fake scores": _grad(loss_d, fake_scores),
            "the gradient of G's loss with respect to the fake scores": _grad(loss_g, fake_scores)}


def _doubled(got, want) -> bool:
    """D's or G's loss is twice the reference's (a ½ left out)."""
    def close(a, b):
        return isinstance(a, torch.Tensor) and a.shape == b.shape and torch.allclose(a.detach(), b.detach(), rtol=1e-6)
    return isinstance(got, dict) and any(close(got.get(k), 2 * want[k]) for k in ("D's loss", "G's loss"))


NOT_A_PAIR = Mistake("return both losses, as the pair (D's loss, G's loss)",
                     when=lambda got, want: isinstance(got, dict) and "the output" in got)


def _ls(r, f, d_real_target=1.0, d_fake_target=0.0, g_target=1.0, half=0.5, squash=lambda a: a):
    r, f = squash(r), squash(f)
    return (half * ((r - d_real_target) ** 2).mean() + half * ((f - d_fake_target) ** 2).mean(),
            half * ((f - g_target) ** 2).mean())


LEAST_SQUARES_MISTAKES = [
    NOT_A_PAIR,
    Mistake("D's targets are swapped: D pushes real scores to 1 and fake scores to 0, ½(a_r - 1)² + ½ a_f²",
            like=lambda real_scores, fake_scores: _ls(real_scores, fake_scores, d_real_target=0.0, d_fake_target=1.0)),
    Mistake("G's target is wrong: G wants D to score its fakes as real, ½(a_f - 1)², not ½ a_f²",
            like=lambda real_scores, fake_scores: _ls(real_scores, fake_scores, g_target=0.0)),
    Mistake("the losses act on sigmoid(a), D's probability, instead of the raw score a (section 5 shows why that "
            "starves G)", like=lambda real_scores, fake_scores: _ls(real_scores, fake_scores, squash=torch.sigmoid)),
    Mistake("a factor ½ is missing: the course's least-squares losses are ½(a - target)², averaged over the batch",
            when=_doubled),
]


def _hinge(r, f, d=lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), g=lambda f: -f.mean()):
    return d(r, f), g(f)


HINGE_MISTAKES = [
    NOT_A_PAIR,
    Mistake("the margins are on the wrong side: D's hinge loss is max(0, 1 - a_r) + max(0, 1 + a_f), pushing real "
            "scores above 1 and fake scores below -1",
            like=lambda real_scores, fake_scores: _hinge(real_scores, fake_scores,
                                                         d=lambda r, f: F.relu(1 + r).mean() + F.relu(1 - f).mean())),
    Mistake("the sign inside each relu is flipped: relu(a_r - 1) penalizes real scores above 1, write relu(1 - a_r) "
            "and relu(1 + a_f)",
            like=lambda real_scores, fake_scores: _hinge(real_scores, fake_scores,
                                                         d=lambda r, f: F.relu(r - 1).mean() + F.relu(-1 - f).mean())),
    Mistake("the margin 1 is missing: max(0, 1 - a_r) + max(0, 1 + a_f), not max(0, -a_r) + max(0, a_f)",
            like=lambda real_scores, fake_scores: _hinge(real_scores, fake_scores,
                                                         d=lambda r, f: F.relu(-r).mean() + F.relu(f).mean())),
    Mistake("G's loss has a relu: it is -mean(a_f), with no margin (relu(1 - a_f) stops pushing a fake once D "
            "scores it above 1)",
            like=lambda real_scores, fake_scores: _hinge(real_scores, fake_scores, g=lambda f: F.relu(1 - f).mean())),
    Mistake("G's loss is minus D's term on fakes, -max(0, 1 + a_f): it gives no gradient for a fake D scores below "
            "-1; G's hinge loss is -mean(a_f)",
            like=lambda real_scores, fake_scores: _hinge(real_scores, fake_scores, g=lambda f: -F.relu(1 + f).mean())),
    Mistake("G's loss has the wrong sign: G wants high scores on its fakes, so it minimizes -mean(a_f)",
            like=lambda real_scores, fake_scores: _hinge(real_scores, fake_scores, g=lambda f: f.mean())),
]


# --- 2.3: the WGAN-GP critic's loss, with a small fixed critic ---------------------------------------------

def _critic_case(batch, image, gain=1.0, lam=None):
    """A smooth critic (tanh, so its input gradient depends on the point) on batches of small 'images'."""
    def case():
        size = image[0] * image[1] * image[2]
        D = nn.Sequential(nn.Flatten(), nn.Linear(size, 8), nn.Tanh(), nn.Linear(8, 1), nn.Flatten(0))
        with torch.no_grad():
            D[1].weight.mul_(gain)
        real = torch.randn(batch, *image)
        fake = 0.7 * torch.randn(batch, *image) + 0.5
        return Inputs((D(real), D(fake), D, real, fake), {} if lam is None else {"lam": lam})
    return case


CRITIC_CASES = [_critic_case(6, (1, 3, 3)), _critic_case(5, (1, 4, 4), gain=3.0, lam=2.0)]


def critic_loss_and_gradient(loss, real_scores, fake_scores, D, real, fake, lam=10.0):
    """What the check of 2.3 compares: the loss, and the gradient its backward gives the critic's parameters."""
    if not (isinstance(loss, torch.Tensor) and loss.requires_grad):
        return {"the critic's loss": loss, "the gradient with respect to the critic's parameters": NOT_DIFFERENTIABLE}
    loss.backward()
    return {"the critic's loss": loss.detach(),
            "the gradient with respect to the critic's parameters":
                torch.cat([torch.zeros(p.numel()) if p.grad is None else p.grad.flatten() for p in D.parameters()])}


def _wgan_gp(real_scores, fake_scores, D, real, fake, lam=10.0, eps_shape=None, norm=None, target=1.0,
             create_graph=True, sign=1.0, weight=True):
    shape = eps_shape(real) if eps_shape else (real.shape[0], *([1] * (real.dim() - 1)))
    eps = torch.rand(shape)
    mix = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mix).sum(), mix, create_graph=create_graph)
    norms = norm(grad) if norm else grad.flatten(1).norm(dim=1)
    penalty = ((norms - target) ** 2).mean()
    return sign * (fake_scores.mean() - real_scores.mean()) + (lam if weight else 1.0) * penalty


WGAN_GP_MISTAKES = [
    Mistake("the penalty is on ‖∇‖² (no - 1): it pushes the critic's gradient norm to 0, not to 1; penalize "
            "(‖∇‖₂ - 1)²", like=lambda *a, **k: _wgan_gp(*a, **k, target=0.0)),
    Mistake("the penalty squares the squared norm, (‖∇‖² - 1)², instead of (‖∇‖₂ - 1)²",
            like=lambda *a, **k: _wgan_gp(*a, **k, norm=lambda g: g.flatten(1).norm(dim=1) ** 2)),
    Mistake("the norm is taken over the whole batch at once; take one norm per image (flatten(1), then norm over "
            "dim 1) and average the penalties", like=lambda *a, **k: _wgan_gp(*a, **k, norm=lambda g: g.norm())),
    Mistake("the gradient was taken without create_graph=True: the penalty then is a constant for autograd and "
            "gives the critic's parameters no gradient", like=lambda *a, **k: _wgan_gp(*a, **k, create_graph=False)),
    Mistake("one ε for the whole batch: draw one ε per image, torch.rand of shape (batch, 1, 1, 1)",
            like=lambda *a, **k: _wgan_gp(*a, **k, eps_shape=lambda real: (1,))),
    Mistake("one ε per pixel: draw one ε per image, torch.rand of shape (batch, 1, 1, 1), the same for all its pixels",
            like=lambda *a, **k: _wgan_gp(*a, **k, eps_shape=lambda real: real.shape)),
    Mistake("the Wasserstein term has the wrong sign: the critic minimizes mean(a_f) - mean(a_r)",
            like=lambda *a, **k: _wgan_gp(*a, **k, sign=-1.0)),
    Mistake("the penalty is not multiplied by lam", like=lambda *a, **k: _wgan_gp(*a, **k, weight=False)),
]
