"""The quality meter: three numbers read off the course's MNIST classifier (:mod:`helpers.digit_classifier`).

* ``confident``: the fraction of samples the classifier labels with probability above 0.9
  (real held-out digits score about 0.95; noise, blobs and blends of two digits score near 0,
  because the classifier is trained to give those a flat or split answer);
* ``class_hist``: the share of samples per predicted class (coverage; mode collapse shows here);
* ``fd``: the Fréchet distance (FD) between classifier features (64-d penultimate layer) of the samples
  and of real held-out digits (:func:`helpers.metrics.frechet_distance`). It depends on the sample size N,
  so it is always reported with N, and N stays well above the 64 feature dimensions.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch

from .config import CourseError
from .data import check_images, load_mnist
from .digit_classifier import FEATURES, Classifier, classifier
from .metrics import embed, features, frechet_distance_from

CONFIDENCE = 0.9


@dataclass
class Quality:
    n: int
    confident: float         # fraction classified with probability > 0.9
    class_hist: list[float]  # share of samples per predicted class, sums to 1
    fd: float                # classifier-feature Fréchet distance to held-out real digits (N = n)

    @property
    def min_class(self) -> float:
        return min(self.class_hist)

    def meets(self, confident: float, min_class: float) -> bool:
        return self.confident >= confident and self.min_class >= min_class

    def __str__(self) -> str:
        return (f"N={self.n}: {self.confident:.1%} confident (p>{CONFIDENCE}), "
                f"rarest class {self.min_class:.1%}, FD={self.fd:.2f}")

    def as_dict(self) -> dict:
        return {"n": self.n, "confident": self.confident, "min_class": self.min_class, "fd": self.fd,
                "class_hist": self.class_hist}


def quality(x01: torch.Tensor, clf: Classifier | None = None) -> Quality:
    """The quality meter on images in [0, 1] (e.g. ``G.sample(1000)``), against held-out real digits."""
    x01 = check_images(x01).float()
    n = len(x01)
    if n < 2 * FEATURES:
        raise CourseError(f"Measure at least {2 * FEATURES} samples (got {n}): the Fréchet distance is unstable below that.")
    clf = clf or classifier()
    seen = embed(x01, clf)                      # one pass of the classifier: its features and its logits
    conf, cls = torch.softmax(seen.logits, 1).max(1)
    hist = torch.bincount(cls, minlength=10).float() / n
    return Quality(n=n, confident=(conf > CONFIDENCE).float().mean().item(),
                   class_hist=[round(v, 4) for v in hist.tolist()],
                   fd=frechet_distance_from(seen.features, heldout_features(clf)))


_HELDOUT = weakref.WeakKeyDictionary()   # classifier -> {data fingerprint: features of the held-out digits}


def heldout_features(clf: Classifier) -> torch.Tensor:
    """The held-out digits' classifier features, computed once per classifier and data set: every measurement
    compares with the same digits (1,000 on the offline sample, 10,000 on full MNIST)."""
    data = load_mnist(quiet=True)
    per_data = _HELDOUT.setdefault(clf, {})
    if data.fingerprint not in per_data:
        per_data[data.fingerprint] = features(data.heldout.unit(), clf)
    return per_data[data.fingerprint]
