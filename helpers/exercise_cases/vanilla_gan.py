"""Notebook 01's exercise checks: the fixed inputs, what each check compares, and the typical mistakes it names.

The check cells compare the student's function with the reference in ``helpers.lessons.vanilla_gan`` (the
notebook's own solution cells) on small players built inside the check under a fixed seed (an MLP G with 8
noise dimensions and D with one hidden layer of 32 units), so a check runs in well under a second on a CPU.
Each mistake is a wrong variant with the reference's signature: when the student's results match a variant's
on every input, the check's sentence names that mistake.
"""
from __future__ import annotations

import torch
from torch import nn

from ..exercises import Inputs, Mistake, grads
from ..models import MLPDiscriminator, MLPGenerator

_bce = nn.BCEWithLogitsLoss()
_NZ, _BATCH = 8, 16


# --- small players and batches -------------------------------------------------------------------------------

def _players(confident=False):
    """A small G and D. No dropout in D, so the order of D's calls does not matter; no BatchNorm in G, whose
    first bias would then get a zero gradient, and a step on rounding noise that differs between two right answers.
    A confident D has its last layer scaled up, so its scores spread over several units and sigmoid(score) is far
    from linear."""
    G, D = MLPGenerator(nz=_NZ, hidden=(32,), batchnorm=False), MLPDiscriminator(hidden=(32,))
    if confident:
        with torch.no_grad():
            D.net[-1].weight.mul_(25)
    return G, D


def _batches(G):
    """A real batch in [-1, 1] and a fake batch still attached to G's graph, as make_step passes them."""
    real = torch.rand(_BATCH, 1, 28, 28) * 2 - 1
    return real, G(torch.randn(_BATCH, _NZ))


def _adam(module):
    return torch.optim.Adam(module.parameters(), lr=1e-3, betas=(0.5, 0.999))   # as make_players sets it


def _sgd(module):
    return torch.optim.SGD(module.parameters(), lr=0.1)   # the step is -0.1 x the gradient: it shows the gradient


def _earlier_step(module, opt, out):
    """One earlier step on a loss of its own: opt has state, and the module's .grad still holds that step's gradient."""
    opt.zero_grad()
    out.pow(2).mean().backward()
    opt.step()


def _before(module):
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def _step(module, before):
    return {k: v.detach() - before[k] for k, v in module.named_parameters()}


def _unmoved(got, key):
    return isinstance(got, dict) and isinstance(got.get(key), dict) and all(
        torch.equal(v, torch.zeros_like(v)) for v in got[key].values())


# --- 1.1 update_D(D, opt_D, real, fake) -> (Loss_D, D(x), D(G(z))) -----------------------------------------

def _update_D_case(opt, confident=False, earlier=False):
    def case():
        G, D = _players(confident)
        opt_D = opt(D)
        if earlier:
            _earlier_step(D, opt_D, D(torch.rand(_BATCH, 1, 28, 28) * 2 - 1))
        real, fake = _batches(G)
        return Inputs((D, opt_D, real, fake), also={"G": G, "D_before": _before(D)})
    return case


UPDATE_D_CASES = [
    _update_D_case(_sgd),                                # fresh players, a plain gradient step
    _update_D_case(_adam, earlier=True),                 # D's .grad still holds an earlier step's gradient
    _update_D_case(_sgd, confident=True),                # D's scores far from 0
]


def after_D_step(result, D, opt_D, real, fake, G, D_before):
    """What update_D's check compares: what it returns, how D's parameters moved, and G's gradients (none)."""
    loss_d, d_x, d_g_z = result
    return {"Loss_D": loss_d, "D(x)": d_x, "D(G(z))": d_g_z, "D's step": _step(D, D_before), "G's gradients": grads(G)}


def _update_D_variant(labels=(1.0, 0.0), detach=True, zero_grad=True, one_mean=False, sigmoid_of_mean=False):
    def update_D(D, opt_D, real, fake):
        score_real, score_fake = D(real), D(fake.detach() if detach else fake)
        target_real, target_fake = torch.full_like(score_real, labels[0]), torch.full_like(score_fake, labels[1])
        if one_mean:
            loss = _bce(torch.cat([score_real, score_fake]), torch.cat([target_real, target_fake]))
        else:
            loss = _bce(score_real, target_real) + _bce(score_fake, target_fake)
        if zero_grad:
            opt_D.zero_grad()
        loss.backward()
        opt_D.step()
        if sigmoid_of_mean:
            return loss, torch.sigmoid(score_real.mean()), torch.sigmoid(score_fake.mean())
        return loss, torch.sigmoid(score_real).mean(), torch.sigmoid(score_fake).mean()
    return update_D


UPDATE_D_MISTAKES = [
    Mistake("the fake batch is not detached, so D's loss reached back into G and left gradients on G's parameters: "
            "use fake.detach()", like=_update_D_variant(detach=False)),
    Mistake("the labels are swapped: real images get label 1, fakes label 0", like=_update_D_variant(labels=(0.0, 1.0))),
    Mistake("opt_D.zero_grad() is missing, so the gradient left in .grad by an earlier step was added to this one",
            like=_update_D_variant(zero_grad=False)),
    Mistake("Loss_D is one BCE averaged over real and fake images together, half the course's: add the two batch "
            "means, -log D(x) - log(1 - D(G(z)))", like=_update_D_variant(one_mean=True)),
    Mistake("D(x) and D(G(z)) are the means of the probabilities sigmoid(score), not sigmoid of the mean score",
            like=_update_D_variant(sigmoid_of_mean=True)),
    Mistake("D's parameters did not move: step D's own optimizer, opt_D.step(), after loss_d.backward()",
            when=lambda got, want: _unmoved(got, "D's step") and not _unmoved(want, "D's step")),
]


# --- 1.2 update_G(G, D, opt_G, fake, saturating) -> (Loss_G, D(G(z)), the norm of G's gradient) ------------

def _update_G_case(opt, saturating=False, confident=False, earlier=False):
    def case():
        G, D = _players(confident)
        opt_G = opt(G)
        if earlier:
            _earlier_step(G, opt_G, G(torch.randn(_BATCH, _NZ)))
        _, fake = _batches(G)
        return Inputs((G, D, opt_G, fake), {"saturating": saturating} if saturating else {},
                      also={"G_before": _before(G), "D_before": _before(D)})
    return case


UPDATE_G_CASES = [
    _update_G_case(_sgd),                                     # the non-saturating loss (the default)
    _update_G_case(_sgd, saturating=True),                    # the saturating loss
    _update_G_case(_adam, earlier=True),                      # G's .grad still holds an earlier step's gradient
    _update_G_case(_sgd, saturating=True, confident=True),    # D's scores far from 0
]


def after_G_step(result, G, D, opt_G, fake, G_before, D_before, saturating=False):
    """What update_G's check compares: what it returns and how G's and D's parameters moved (D must not)."""
    loss_g, d_g_z, grad_norm = result
    return {"Loss_G": loss_g, "D(G(z))": d_g_z, "the norm of G's gradient": grad_norm,
            "G's step": _step(G, G_before), "D's step": _step(D, D_before)}


def _update_G_variant(non_saturating_label=1.0, saturating_sign=-1.0, always_saturating=False, detach=False,
                      zero_grad=True):
    def update_G(G, D, opt_G, fake, saturating=False):
        score = D(fake.detach() if detach else fake)
        if saturating or always_saturating:
            loss = saturating_sign * _bce(score, torch.zeros_like(score))
        else:
            loss = _bce(score, torch.full_like(score, non_saturating_label))
        if zero_grad:
            opt_G.zero_grad()
        loss.backward()
        grad_norm = nn.utils.clip_grad_norm_(G.parameters(), float("inf"))
        opt_G.step()
        return loss, torch.sigmoid(score).mean(), grad_norm
    return update_G


UPDATE_G_MISTAKES = [
    Mistake("with saturating=False that is the saturating loss log(1 - D(G(z))) = -BCE(score, label 0); the "
            "non-saturating loss is -log D(G(z)) = BCE(score, label 1)", like=_update_G_variant(always_saturating=True)),
    Mistake("with saturating=True the sign is flipped: G minimizes log(1 - D(G(z))) = -BCE(score, label 0), while "
            "+BCE(score, label 0) is D's loss on the fakes", like=_update_G_variant(saturating_sign=1.0)),
    Mistake("label 0 is D's label for fakes: G wants D to call its fakes real, so its non-saturating loss is "
            "BCE(score, label 1)", like=_update_G_variant(non_saturating_label=0.0)),
    Mistake("opt_G.zero_grad() is missing, so the gradient left in .grad by an earlier step was added to this one",
            like=_update_G_variant(zero_grad=False)),
    Mistake("the fake batch is detached, so no gradient reaches G: only D's step detaches the fakes",
            like=_update_G_variant(detach=True)),
    Mistake("G's parameters did not move: step G's own optimizer, opt_G.step(), after loss_g.backward() "
            "(D must not change in G's step)",
            when=lambda got, want: _unmoved(got, "G's step") and not _unmoved(want, "G's step")),
]


# --- 1.3 who_is_winning(d_x, d_g_z, margin) -> "D has won" | "D leads" | "even" | "G leads" -----------------

def _log(d_x, d_g_z, margin=None):
    def case():
        arrays = (torch.tensor(d_x, dtype=torch.float64).numpy(), torch.tensor(d_g_z, dtype=torch.float64).numpy())
        return arrays if margin is None else (*arrays, margin)
    return case


WHO_IS_WINNING_CASES = [   # D(x) and D(G(z)) of a few logged steps (NumPy arrays, as history["d_x"][-n:] gives them)
    _log([0.70, 0.58, 0.66, 0.60, 0.64, 0.62], [0.30, 0.42, 0.34, 0.40, 0.36, 0.38]),   # the usual game
    _log([0.52, 0.47, 0.50, 0.49, 0.53, 0.49], [0.22, 0.18, 0.20, 0.21, 0.19, 0.20]),   # D(x) near 1/2, fakes low
    _log([0.97, 0.95, 0.96, 0.98, 0.96, 0.94], [0.03, 0.05, 0.02, 0.04, 0.03, 0.02]),   # D tells them apart
    _log([0.58, 0.52, 0.55, 0.50, 0.56, 0.40], [0.45, 0.50, 0.47, 0.52, 0.46, 0.60]),   # even on average, not at the end
    _log([0.40, 0.43, 0.41, 0.39, 0.42, 0.41], [0.62, 0.58, 0.61, 0.60, 0.59, 0.60]),   # fakes scored higher
    _log([0.96, 0.94, 0.95, 0.93, 0.96, 0.95], [0.52, 0.48, 0.50, 0.49, 0.51, 0.50]),   # reals sure, fakes at 1/2
    _log([0.70, 0.58, 0.66, 0.60, 0.64, 0.62], [0.30, 0.42, 0.34, 0.40, 0.36, 0.38], margin=0.3),   # a wider margin
]


def _verdict(d_x, d_g_z, margin, *, even=None, won=None):
    if won(d_x, d_g_z) if won else (d_x > 0.9 and d_g_z < 0.1):
        return "D has won"
    if even(d_x, d_g_z) if even else abs(d_x - d_g_z) <= margin:
        return "even"
    return "G leads" if d_g_z > d_x else "D leads"


def _mean(v):
    return float(torch.as_tensor(v, dtype=torch.float64).mean())


WHO_IS_WINNING_MISTAKES = [
    Mistake("D(x) near 1/2 on its own is not a draw: it is even when D scores real and fake alike, mean D(x) "
            "within margin of mean D(G(z))",
            like=lambda d_x, d_g_z, margin=0.05: _verdict(_mean(d_x), _mean(d_g_z), margin,
                                                         even=lambda a, b: abs(a - 0.5) <= margin)),
    Mistake("that reads the last logged step only: average over all the steps given (one log line oscillates)",
            like=lambda d_x, d_g_z, margin=0.05: _verdict(float(d_x[-1]), float(d_g_z[-1]), margin)),
    Mistake("D(G(z)) is D's probability that a fake is real, not that it is fake: D does well when it is low",
            like=lambda d_x, d_g_z, margin=0.05: _verdict(_mean(d_x), 1 - _mean(d_g_z), margin)),
    Mistake("the players are swapped: D leads when it scores real images above the fakes",
            like=lambda d_x, d_g_z, margin=0.05: {"D leads": "G leads", "G leads": "D leads"}.get(
                _verdict(_mean(d_x), _mean(d_g_z), margin), _verdict(_mean(d_x), _mean(d_g_z), margin))),
    Mistake("D has won only when both hold: mean D(x) > 0.9 and mean D(G(z)) < 0.1",
            like=lambda d_x, d_g_z, margin=0.05: _verdict(_mean(d_x), _mean(d_g_z), margin,
                                                         won=lambda a, b: a > 0.9 or b < 0.1)),
    Mistake("the margin argument is ignored (0.05 is only its default)",
            like=lambda d_x, d_g_z, margin=0.05: _verdict(_mean(d_x), _mean(d_g_z), 0.05)),
]
