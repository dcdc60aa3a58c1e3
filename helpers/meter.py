"""The quality meter: an MNIST classifier trained on the training split, and the numbers built on it.

* ``confident``: the fraction of samples the classifier labels with probability above 0.9
  (real held-out digits score about 0.95; noise, blobs and blends of two digits score near 0,
  because the classifier is trained to give those a flat or split answer);
* ``class_hist``: the share of samples per predicted class (coverage; mode collapse shows here);
* ``fd``: the Fréchet distance between classifier features (64-d penultimate layer) of the samples
  and of real held-out digits, computed by torchmetrics in float64. It depends on the sample size N,
  so it is always reported with N, and N stays well above the 64 feature dimensions.

The classifier is trained once (about 20 s on a CPU for the offline sample; 20 epochs of full MNIST take
15 times longer) and cached in ``data/`` under a name that
includes the data's fingerprint, so it is retrained when the data changes.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from . import config
from .config import CourseError
from .data import MNIST, batches, load_mnist, to_signed

FEATURES = 64
CONFIDENCE = 0.9
FORMAT = 3


class Classifier(nn.Module):
    """A small CNN: 28x28 -> 10 classes, with a 64-d feature layer. Input: images in [0, 1]."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 14x14
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 7x7
            nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 7 * 7, FEATURES), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.25), nn.Linear(FEATURES, 10))

    def features(self, x01: torch.Tensor) -> torch.Tensor:
        return self.body(to_signed(x01))

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x01))


class FeatureExtractor(nn.Module):
    """The classifier's feature layer, for :func:`helpers.metrics.embed`.

    Features are computed on the classifier's device and returned on the CPU, where the metrics
    compute in float64 (MPS has no float64)."""

    def __init__(self, clf: Classifier):
        super().__init__()
        self.clf = clf

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        dev = next(self.clf.parameters()).device
        return self.clf.features(x01.to(dev)).float().cpu()


def _junk(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Images that are not one clear digit, with soft targets (outlier exposure): uniform noise and
    smooth blobs get the uniform target; blends of two digits share their target between both.
    Without them a classifier calls pure noise a digit with 100% confidence, and the meter means nothing."""
    n, dev = len(x), x.device
    k = n // 3
    noise = torch.rand(k, 1, 28, 28, generator=gen).to(dev)
    blobs = F.interpolate(torch.rand(k, 1, 7, 7, generator=gen), size=28, mode="bilinear").to(dev)
    blobs = (blobs - blobs.amin((2, 3), keepdim=True)) ** 3
    blobs = blobs / blobs.amax((2, 3), keepdim=True)
    perm = torch.randperm(n, generator=gen)[: n - 2 * k].to(dev)
    lam = (0.4 + 0.2 * torch.rand(len(perm), generator=gen)).to(dev)
    x01 = (x + 1) / 2
    blend = lam.view(-1, 1, 1, 1) * x01[: len(perm)] + (1 - lam.view(-1, 1, 1, 1)) * x01[perm]
    target = torch.full((n, 10), 0.1, device=dev)
    mix = lam[:, None] * F.one_hot(y[: len(perm)], 10) + (1 - lam[:, None]) * F.one_hot(y[perm], 10)
    target[2 * k:] = mix
    return torch.cat([noise, blobs, blend]), target


def _how_long(data: MNIST) -> str:
    return "about 20 s" if data.source == "sample" else "several minutes on a CPU: 15 times the offline sample's steps"


def _train_classifier(data: MNIST, epochs: int = 20, seed: int = 0) -> Classifier:
    gen = config.seed_everything(seed)
    dev = data.train.images.device
    clf = Classifier().to(dev)
    opt = torch.optim.Adam(clf.parameters(), lr=1e-3)
    steps = epochs * (len(data.train) // 64)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    clf.train()
    stream = batches(data.train, 64, gen)
    for _ in range(steps):
        _, _, x, y = next(stream)
        # Light augmentation (shifts of up to 2 pixels) so the classifier generalises from 4,000 digits.
        dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
        x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
        junk, junk_target = _junk(x[:48], y[:48], gen)
        loss = F.cross_entropy(clf((x + 1) / 2), y) + 0.5 * F.cross_entropy(clf(junk), junk_target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return clf.eval()


@functools.lru_cache(maxsize=2)
def classifier(device: str | None = None) -> Classifier:
    """The course's MNIST classifier, trained on the training split once and cached in ``data/``."""
    data = load_mnist(device, quiet=True)
    dev = data.train.images.device
    path = config.data_dir() / f"classifier-v{FORMAT}-{data.fingerprint}.pt"
    clf = Classifier()
    if path.exists():
        try:
            record = torch.load(path, map_location="cpu", weights_only=True)
            clf.load_state_dict(record["state_dict"])
            return clf.to(dev).eval()
        except Exception:
            print(f"The cached classifier {path} is unreadable; retraining it ({_how_long(data)}).")
    else:
        print(f"Training the quality meter's MNIST classifier once ({_how_long(data)}); cached as {path.name}.")
    clf = _train_classifier(data)
    acc = accuracy(clf, data.heldout.unit(), data.heldout.labels)
    torch.save({"format": FORMAT, "state_dict": {k: v.cpu() for k, v in clf.state_dict().items()},
                "heldout_accuracy": acc}, path)
    return clf


@torch.no_grad()
def predict(clf: Classifier, x01: torch.Tensor, chunk: int = 1000) -> torch.Tensor:
    """Class probabilities ``(n, 10)`` for images in [0, 1]."""
    dev = next(clf.parameters()).device
    return torch.cat([F.softmax(clf(x01[i:i + chunk].to(dev)), 1) for i in range(0, len(x01), chunk)])


def accuracy(clf: Classifier, x01: torch.Tensor, labels: torch.Tensor) -> float:
    return (predict(clf, x01).argmax(1).cpu() == labels.cpu()).float().mean().item()


def check_images(x: torch.Tensor) -> torch.Tensor:
    """Refuse tensors that are not images in [0, 1] of shape (n, 1, 28, 28), with one clear sentence."""
    if not isinstance(x, torch.Tensor):
        raise CourseError(f"Expected a tensor of images, got {type(x).__name__}.")
    if x.dim() == 3 and x.shape[1:] == (28, 28):
        x = x.unsqueeze(1)
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise CourseError(f"Expected images of shape (n, 1, 28, 28), got {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise CourseError("The images contain NaN or inf values; the generator has diverged.")
    if x.min() < -1e-3 or x.max() > 1 + 1e-3:
        raise CourseError(
            f"Expected pixel values in [0, 1], got {x.min().item():.2f}..{x.max().item():.2f}; "
            "map tanh outputs with helpers.to_unit(x) first."
        )
    return x.float()


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


def frechet_distance(x01: torch.Tensor, reference01: torch.Tensor, clf: Classifier | None = None) -> float:
    """Classifier-feature Fréchet distance between two image sets in [0, 1] (torchmetrics, float64).

    The computation lives in :func:`helpers.metrics.fid` (imported here, not at the top: metrics builds
    on this module)."""
    from .metrics import fid

    return fid(x01, reference01, clf)


def quality(x01: torch.Tensor, clf: Classifier | None = None) -> Quality:
    """The quality meter on images in [0, 1] (e.g. ``G.sample(1000)``), against held-out real digits."""
    x01 = check_images(x01)
    n = len(x01)
    if n < 2 * FEATURES:
        raise CourseError(f"Measure at least {2 * FEATURES} samples (got {n}): the Fréchet distance is unstable below that.")
    clf = clf or classifier()
    probs = predict(clf, x01).cpu()
    conf, cls = probs.max(1)
    hist = torch.bincount(cls, minlength=10).float() / n
    heldout = load_mnist(quiet=True).heldout.unit()
    return Quality(n=n, confident=(conf > CONFIDENCE).float().mean().item(),
                   class_hist=[round(v, 4) for v in hist.tolist()],
                   fd=max(0.0, frechet_distance(x01, heldout, clf)))
