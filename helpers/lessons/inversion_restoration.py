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


def mse_data(x, forward, y, observed):
    """The data term with the squared error, one value per restart and digit: x (restarts, n, 1, 28, 28) images in
    [0, 1], forward the degradation A (it takes a batch (B, 1, 28, 28)), y (n, 1, 28, 28) the measurements, observed
    (n, 1, 28, 28) 1 on the observed pixels and 0 on the others. Returns a (restarts, n) tensor."""
    # Exercise 5.1 · mse_data (15 min): A applied to the images of all restarts as one batch, the residual A(x) - y kept on the observed pixels, and per restart and digit the sum of its squares divided by the digit's number of observed pixels; return the (restarts, n) tensor
    ### BEGIN SOLUTION
    r = (forward(x.flatten(0, 1)).view_as(x) - y) * observed      # residual on observed pixels; y broadcasts over restarts
    return r.square().sum((2, 3, 4)) / observed.sum((1, 2, 3))
    ### END SOLUTION


def l1_data(x, forward, y, observed):
    """The data term with the absolute error: the same arguments and shape as mse_data. For inpainting, observed is 0
    in the hole, and the measurement y says nothing there."""
    # Exercise 5.2 · l1_data (10 min): the mean absolute error between A(x) and y over the observed pixels only, per restart and digit (the sum over its observed pixels divided by their number); return the (restarts, n) tensor
    ### BEGIN SOLUTION
    r = (forward(x.flatten(0, 1)).view_as(x) - y) * observed      # zero on the hidden pixels
    return r.abs().sum((2, 3, 4)) / observed.sum((1, 2, 3))
    ### END SOLUTION


def invert(G, z, data_term, steps, lam, lr, shell, each_step):
    """Search z from the starting points z (restarts, n, G.nz); Adam moves z only. data_term(x) gives the (restarts, n)
    data terms of images x (restarts, n, 1, 28, 28); shell is s of the prior term; each_step(t, x, data) is called
    at every t = 0, ..., steps, before that step's update.

    Returns a dict, all detached: "x" (n, 1, 28, 28) and "z" (n, G.nz) of the restart kept for each digit, "best" (n,)
    its index, and "all_x", "all_z" and "data": the final images, z and data terms of every restart."""
    # Exercise 5.3 · invert (20 min): Adam with step size lr on a copy of z that requires grad, minimising the sum of data_term(x) + lam * (mean of z² over its n_z entries - shell)² with x = helpers.to_unit(G(z)) shaped (restarts, n, 1, 28, 28), evaluated at t = 0, ..., steps with each_step(t, x, data) called each time and an update after every evaluation but the last; keep for each digit the restart with the lowest final data term and return the dict of the docstring
    ### BEGIN SOLUTION
    restarts, n = z.shape[:2]
    z = z.clone().requires_grad_()
    opt = torch.optim.Adam([z], lr=lr)
    for t in range(steps + 1):
        x = helpers.to_unit(G(z.flatten(0, 1))).view(restarts, n, 1, 28, 28)
        data = data_term(x)                                     # (restarts, n)
        prior = (z.square().mean(-1) - shell).square()          # (restarts, n)
        each_step(t, x, data)
        if t == steps:
            break
        opt.zero_grad()
        (data + lam * prior).sum().backward()    # a sum: each digit's z gets its own gradient, whatever n is
        opt.step()
    best = data.detach().argmin(0)                 # the restart with the lowest final data term, per digit
    pick = (best, torch.arange(n))
    x, z = x.detach(), z.detach()
    return {"x": x[pick], "z": z[pick], "best": best, "all_x": x, "all_z": z, "data": data.detach()}
    ### END SOLUTION


def search(y, forward=None, observed=None, loss="mse", steps=STEPS, restarts=RESTARTS, lam=LAMBDA, lr=LR, seed=0,
           snapshot_at=(), watch=(), callback=None, every=10):
    """Search z for each image in y (n, 1, 28, 28) in [0, 1] so that forward(G(z)) matches y on the observed pixels.

    Keeps G(z) of the images `watch` at the steps `snapshot_at`; calls callback(step, best images, loss) every `every` steps."""
    n = len(y)
    forward = forward or (lambda x: x)
    w = torch.ones_like(y) if observed is None else observed.to(y.device).expand_as(y).to(y.dtype)
    data_term = mse_data if loss == "mse" else l1_data                      # Exercise 5.1 or 5.2
    z = torch.randn(restarts, n, G.nz, generator=torch.Generator().manual_seed(seed)).to(y.device)
    curve, snapshots = [], {}

    def each_step(t, x, data):                                              # what we keep along the way
        x, data = x.detach(), data.detach()
        curve.append(data.cpu())
        if t in snapshot_at:
            snapshots[t] = x[:, list(watch)].cpu()
        if callback is not None and t % every == 0:
            callback(t, x[data.argmin(0), torch.arange(n)], float(data.min(0).values.mean()))

    found = invert(G, z, lambda x: data_term(x, forward, y, w), steps, lam, lr, SHELL, each_step)   # Exercise 5.3
    found["best"] = found["best"].cpu()
    return SimpleNamespace(**found, curve=torch.stack(curve), snapshots=snapshots)
