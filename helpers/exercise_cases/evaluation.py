"""Notebook 06's exercise checks: the fixed inputs and the typical mistakes each check names.

The check cells compare the student's function with the reference in ``helpers.lessons.evaluation`` (the
notebook's own solution cells) on these small inputs, built inside the check under a fixed seed, so a check
runs in well under a second on a CPU. Each mistake is a wrong variant with the reference's signature: when the
student's results match a variant's on every input, the check's sentence names that mistake.
"""
from __future__ import annotations

import numpy as np
import torch

from ..exercises import Mistake


# --- 6.1 memorization(x, train, held, quantile): (share memorized, median distance ratio) ------------------

def _memorization_inputs():
    """20 training 'images' of 6x6 pixels; 10 samples, 4 of them exact training copies; 20 held-out images."""
    train, held, new = torch.rand(20, 1, 6, 6), torch.rand(20, 1, 6, 6), torch.rand(6, 1, 6, 6)
    return torch.cat([train[:4], new]), train, held


def _memorization_no_copies():
    return torch.rand(12, 1, 6, 6), torch.rand(30, 1, 6, 6), torch.rand(25, 1, 6, 6)


MEMORIZATION_CASES = [_memorization_inputs, _memorization_no_copies]


def _nearest(a, b):
    return torch.cdist(a.flatten(1).double(), b.flatten(1).double()).min(1).values


def _share_and_ratio(dx, dh, quantile):
    return float((dx < torch.quantile(dh, quantile)).double().mean()), float(dx.median() / dh.median())


def _nearest_held_out(x, train, held, quantile=0.05):
    return _share_and_ratio(_nearest(x, held), _nearest(held, train), quantile)


def _squared(x, train, held, quantile=0.05):
    return _share_and_ratio(_nearest(x, train) ** 2, _nearest(held, train) ** 2, quantile)


def _threshold_from_samples(x, train, held, quantile=0.05):
    dx, dh = _nearest(x, train), _nearest(held, train)
    return float((dx < torch.quantile(dx, quantile)).double().mean()), float(dx.median() / dh.median())


MEMORIZATION_MISTAKES = [
    Mistake("the samples' distances were measured to the nearest held-out digit, not to the nearest training digit",
            like=_nearest_held_out),
    Mistake("the distances are squared (sum of squared pixel differences without the square root)", like=_squared),
    Mistake("the threshold is the quantile of the samples' own distances, not of the held-out digits'",
            like=_threshold_from_samples),
]


# --- 6.2 frechet(fx, fr): the Fréchet distance between two feature sets -----------------------------------

def _features(n, d=6, shift=0.0, scale=1.0):
    return (torch.randn(n, d) * scale + shift).relu()   # ReLU features, like the classifier's


FRECHET_CASES = [
    lambda: (_features(60, shift=0.3), _features(80)),
    lambda: (_features(50, scale=2.0), _features(70)),
    lambda: (torch.cat([_features(60, d=5), torch.zeros(60, 1)], 1),   # a dead feature: singular covariances
             torch.cat([_features(70, d=5, shift=0.2), torch.zeros(70, 1)], 1)),
]


def _moments(fx, fr):
    fx, fr = fx.double().numpy(), fr.double().numpy()
    return fx.mean(0), fr.mean(0), np.cov(fx, rowvar=False), np.cov(fr, rowvar=False)


def _fd_with(sqrt_trace):
    def fd(fx, fr):
        mu_x, mu_r, cov_x, cov_r = _moments(fx, fr)
        return float(((mu_x - mu_r) ** 2).sum() + np.trace(cov_x + cov_r) - 2 * sqrt_trace(cov_x, cov_r))
    return fd


def _sqrt_eig(m):
    return np.sqrt(np.linalg.eigvals(m).astype(complex)).real.sum()


def _means_only(fx, fr):
    mu_x, mu_r, _, _ = _moments(fx, fr)
    return float(((mu_x - mu_r) ** 2).sum())


FRECHET_MISTAKES = [
    Mistake("the square root was taken elementwise (of each entry of Σx Σr), not of the matrix",
            like=_fd_with(lambda cx, cr: np.sqrt(np.abs(np.diag(cx @ cr))).sum())),
    Mistake("the square root is of the elementwise product Σx * Σr, not of the matrix product Σx Σr",
            like=_fd_with(lambda cx, cr: _sqrt_eig(cx * cr))),
    Mistake("the square root is of the trace, sqrt(tr(Σx Σr)), not the trace of the matrix square root",
            like=_fd_with(lambda cx, cr: np.sqrt(np.trace(cx @ cr)))),
    Mistake("the trace term is missing: only the means are compared", like=_means_only),
    Mistake("the factor 2 in front of tr((Σx Σr)^1/2) is missing",
            like=_fd_with(lambda cx, cr: _sqrt_eig(cx @ cr) / 2)),
]


# --- 6.3 precision_recall(fx, fr, k): k-NN precision and recall -------------------------------------------

PRECISION_RECALL_CASES = [
    lambda: (torch.randn(40, 4).double() * 0.6 + 0.5, torch.randn(50, 4).double()),   # samples narrower than the reals
    lambda: (torch.randn(45, 3).double() * 1.8, torch.randn(40, 3).double()),          # samples wider
]


def _pr(fx, fr, k, rank, swap_radii=False, swap_out=False):
    def radii(f):
        return torch.cdist(f, f).kthvalue(rank, dim=1).values
    dist = torch.cdist(fr, fx)                                    # (real, samples)
    if swap_radii:   # a sample counted when its own ball holds a real digit, a real digit when its own ball holds a sample
        precision = (dist <= radii(fx)[None, :]).any(0).double().mean().item()
        recall = (dist <= radii(fr)[:, None]).any(1).double().mean().item()
    else:
        precision = (dist <= radii(fr)[:, None]).any(0).double().mean().item()
        recall = (dist <= radii(fx)[None, :]).any(1).double().mean().item()
    return (recall, precision) if swap_out else (precision, recall)


PRECISION_RECALL_MISTAKES = [
    Mistake("each point counts as its own nearest neighbour: the radius must reach the k-th neighbour other than "
            "the point itself (kthvalue(k + 1))", like=lambda fx, fr, k=3: _pr(fx, fr, k, rank=k)),
    Mistake("precision and recall are swapped", like=lambda fx, fr, k=3: _pr(fx, fr, k, rank=k + 1, swap_out=True)),
    Mistake("the balls are drawn around the wrong set: precision needs the real digits' balls, recall the samples'",
            like=lambda fx, fr, k=3: _pr(fx, fr, k, rank=k + 1, swap_radii=True)),
]
