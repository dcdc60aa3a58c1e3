"""Generated from notebooks/05_inversion_restoration.ipynb by `make lessons`; edit the notebook, not this file.

The notebook's saved cells (first line ``#@save``), in order, after the imports they use.
"""
from types import SimpleNamespace
import torch
import helpers


# Every setting that depends on the run mode, in one place.
N_DIGITS = helpers.pick(quick=20, standard=100, full=1000)   # held-out digits, the same number of each class
STEPS = helpers.pick(quick=60, standard=400, full=1000)      # Adam steps of one search for z
RESTARTS = helpers.pick(quick=2, standard=3, full=4)         # random starting points per digit; the best is kept
LR = 0.05                                                    # Adam's step size for z
LAMBDA = 0.1                                                 # weight of the prior term on z


def search(y, forward=None, observed=None, loss="mse", steps=STEPS, restarts=RESTARTS, lam=LAMBDA, lr=LR, seed=0,
           snapshot_at=(), watch=(), callback=None, every=10):
    """Search z for each image in y (n, 1, 28, 28) in [0, 1] so that forward(G(z)) matches y on the observed pixels.

    Keeps G(z) of the images `watch` at the steps `snapshot_at`; calls callback(step, best images, loss) every `every` steps."""
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
