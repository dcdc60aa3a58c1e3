"""Notebook 05's exercise checks: the fixed inputs and the typical mistakes each check names.

The check cells compare the student's function with the reference in ``helpers.lessons.inversion_restoration``
(the notebook's own solution cells) on these small inputs, built inside the check under a fixed seed, so a check
runs in about a second on a CPU. Each mistake is a wrong variant with the reference's signature: when the
student's results match a variant's on every input, the check's sentence names that mistake.
"""
from __future__ import annotations

import torch
from torch import nn

from .. import restore as R
from ..data import to_unit
from ..exercises import Inputs, Mistake


# --- 5.1 mse_data and 5.2 l1_data (x, forward, y, observed) -> (restarts, n) ---------------------------------
# x: (restarts, n, 1, 28, 28) generated images in [0, 1]; y: (n, 1, 28, 28) measurements; observed: (n, 1, 28, 28)
# floats, 1 where observed. `observed` goes in as a keyword, so the gradient check (gradients=True) covers x and y.

def _data_case(restarts, n, op=None, mask=None, junk=False):
    """Images x, and measurements y = op(random images); with ``mask`` the observed pixels (shared, or one mask per
    image); with ``junk`` noise is added to y, so its hidden pixels hold values a data term must ignore, not zeros."""
    def case():
        x, clean = torch.rand(restarts, n, 1, 28, 28), torch.rand(n, 1, 28, 28)
        forward = (lambda v: v) if op is None else op.forward_model
        y = clean if op is None else op(clean)
        if junk:
            y = y + 0.5 * torch.rand_like(y)
        w = torch.ones_like(y) if mask is None else mask().expand_as(y).to(y.dtype)
        return Inputs((x, forward, y), {"observed": w})
    return case


def _per_image_masks(n):
    """A random mask per image, with a different share observed in each (so |Ω| differs from digit to digit)."""
    return lambda: torch.rand(n, 1, 28, 28) < torch.linspace(0.3, 0.8, n)[:, None, None, None]


DATA_CASES = [
    _data_case(2, 3, R.AddNoise(0.3, seed=1)),                                        # denoising: A is the identity
    _data_case(3, 2, R.Compose(R.GaussianBlur(1.5), R.AddNoise(0.02, seed=2))),       # deblurring: A blurs
    _data_case(2, 3, R.Mask.half("bottom"), mask=lambda: R.Mask.half("bottom").observed),   # inpainting
    _data_case(2, 4, mask=_per_image_masks(4), junk=True),   # random pixels observed, y wrong on the hidden ones
]


def _data(ell, *, degrade=True, degrade_y=False, masked=True, divide="observed"):
    """A data term with the loss ``ell`` on the residual and one thing possibly done wrong."""
    def data(x, forward, y, observed):
        ax = forward(x.flatten(0, 1)).view_as(x) if degrade else x
        target = forward(y) if degrade_y else y
        r = (ax - target) * observed if masked else ax - target
        total = ell(r).sum((2, 3, 4))
        if divide == "observed":
            total = total / observed.sum((1, 2, 3))
        elif divide == "all":
            total = total / (28 * 28)
        return total
    return data


def _data_mistakes(ell, other, other_name):
    return [
        Mistake("x is compared with y without applying the degradation: the data term compares A(x), the "
                "degraded image, with the measurement y", like=_data(ell, degrade=False)),
        Mistake("the degradation is applied to y as well: y is already the measurement, only x goes through A",
                like=_data(ell, degrade_y=True)),
        Mistake("the mean is over all 784 pixels, not over the observed ones: divide by the number of observed "
                "pixels of each digit, observed.sum((1, 2, 3))", like=_data(ell, divide="all")),
        Mistake("the hidden pixels are counted: multiply the residual by observed before summing",
                like=_data(ell, masked=False)),
        Mistake("the sum is not divided by the number of observed pixels", like=_data(ell, divide=None)),
        Mistake("the data term has one value per restart and digit, shape (restarts, n): sum over each image's "
                "pixels only, dims (2, 3, 4)", when=_wrong_shape),
        Mistake(f"{other_name} where this exercise asks for the {'squared' if other is _abs else 'absolute'} error",
                like=_data(other)),
    ]


def _wrong_shape(got, want):
    return isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor) and got.shape != want.shape


def _square(r):
    return r.square()


def _abs(r):
    return r.abs()


MSE_MISTAKES = _data_mistakes(_square, _abs, "the absolute error (L1)")
L1_MISTAKES = _data_mistakes(_abs, _square, "the squared error (L2)")


# --- 5.3 invert(G, z, data_term, steps, lam, lr, shell, each_step) -> dict --------------------------------------
# A tiny generator (Linear + Tanh, 8 latent dimensions) and a few steps. Its weights are left trainable, unlike the
# notebook's frozen G: a z that does not require grad then never moves (and the check can name that mistake)
# instead of stopping the backward pass with an error.

NZ = 8


def _tiny_generator():
    G = nn.Sequential(nn.Linear(NZ, 28 * 28), nn.Tanh(), nn.Unflatten(1, (1, 28, 28)))
    G.nz = NZ
    return G


def _invert_case(n, op, loss, steps, lam, lr, shell, scales=(0.5, 2.0, 1.0)):
    """Digits drawn by G itself (then degraded by ``op``); the restarts start at different distances from the
    shell (``scales``), so the prior term and the choice of the kept restart both matter."""
    def case():
        G = _tiny_generator()
        with torch.no_grad():
            clean = to_unit(G(torch.randn(n, NZ)))
        y = clean if op is None else op(clean)
        forward = (lambda v: v) if op is None else op.forward_model
        w = torch.ones_like(y) if op is None or op.observed is None else op.observed.expand_as(y).to(y.dtype)
        ell = _square if loss == "mse" else _abs
        data_term = lambda x: _data(ell)(x, forward, y, w)   # noqa: E731 - the reference's 5.1 / 5.2
        z = torch.randn(len(scales), n, NZ) * torch.tensor(scales)[:, None, None]
        seen = []
        each_step = lambda t, x, data: seen.append((t, data.detach().clone()))   # noqa: E731
        return Inputs((G, z, data_term, steps, lam, lr, shell, each_step), also={"seen": seen})
    return case


INVERT_CASES = [
    _invert_case(4, None, "mse", steps=6, lam=0.3, lr=0.1, shell=1.0),
    _invert_case(3, R.Mask.half("bottom"), "l1", steps=5, lam=1.0, lr=0.05, shell=1.3),
]

EACH_STEP = "the data terms passed to each_step(t, x, data), at t = 0, 1, ..., steps"


def invert_observed(result, G, z, data_term, steps, *args, seen, **kwargs):
    """What the check compares: every entry of the returned dict, and what each_step received along the way."""
    out = {f'result["{k}"]': v for k, v in result.items()} if isinstance(result, dict) else {"the result": result}
    called_at = [t for t, _ in seen]
    out[EACH_STEP] = (torch.stack([d for _, d in seen]) if called_at == list(range(steps + 1))
                      else f"each_step called at t = {called_at}")
    return out


def _invert(G, z, data_term, steps, lam, lr, shell, each_step, *, keep="best", zero_grad=True, prior="shell",
            requires_grad=True, last_eval=True):
    """The search with one thing possibly done wrong."""
    restarts, n = z.shape[:2]
    z = z.clone().requires_grad_(requires_grad)
    opt = torch.optim.Adam([z], lr=lr)
    for t in range(steps + 1 if last_eval else steps):
        x = to_unit(G(z.flatten(0, 1))).view(restarts, n, 1, 28, 28)
        data = data_term(x)
        if prior == "shell":
            prior_term = (z.square().mean(-1) - shell).square()
        elif prior == "origin":
            prior_term = z.square().sum(-1)
        else:
            prior_term = torch.zeros_like(data)
        each_step(t, x, data)
        if t == steps:
            break
        if zero_grad:
            opt.zero_grad()
        (data + lam * prior_term).sum().backward()
        opt.step()
    if keep == "best":
        best = data.detach().argmin(0)
    elif keep == "total":
        best = (data + lam * prior_term).detach().argmin(0)
    else:
        best = torch.full((n,), restarts - 1)
    pick = (best, torch.arange(n))
    x, z = x.detach(), z.detach()
    return {"x": x[pick], "z": z[pick], "best": best, "all_x": x, "all_z": z, "data": data.detach()}


def _variant(**wrong):
    return lambda G, z, data_term, steps, lam, lr, shell, each_step: _invert(G, z, data_term, steps, lam, lr, shell,
                                                                             each_step, **wrong)


INVERT_MISTAKES = [
    Mistake("z does not require grad, so Adam never moves it: optimise a copy made with z.clone().requires_grad_()",
            like=_variant(requires_grad=False)),
    Mistake("optimizer.zero_grad() is missing, so each step's gradient adds to all the earlier ones",
            like=_variant(zero_grad=False)),
    Mistake("the prior term is missing: minimise data + lam * (mean of z² over its entries - shell)²",
            like=_variant(prior="none")),
    Mistake("the prior term pulls z towards 0 (lam * |z|²); the notebook's pulls |z|² / n_z towards the shell: "
            "(mean of z² over its entries - shell)²", like=_variant(prior="origin")),
    Mistake("every digit keeps the last restart: keep, per digit, the restart with the lowest final data term "
            "(argmin over the restarts)", like=_variant(keep="last")),
    Mistake("the kept restart is chosen by the total loss (data + prior): the notebook keeps the lowest final data term",
            like=_variant(keep="total")),
    Mistake("the returned images and data terms are from before the last update: evaluate G(z) steps + 1 times "
            "(t = 0, ..., steps) and update after each evaluation but the last", like=_variant(last_eval=False)),
    Mistake("each_step is not called at every t = 0, 1, ..., steps (once per evaluation, before the update)",
            when=lambda got, want: isinstance(got, dict) and isinstance(got.get(EACH_STEP), str)),
]
