"""The course's MNIST classifier: its network, its one-time training and cache, and what it reads off images.

The quality meter (:mod:`helpers.meter`) and the evaluation metrics (:mod:`helpers.metrics`) both stand on
it: :func:`predict` gives class probabilities, :class:`FeatureExtractor` the 64-d penultimate layer.

It is trained once (about 20 s on a CPU for the offline sample; 20 epochs of full MNIST take 15 times
longer) on the training split only, and cached in ``data/`` under a name that includes the data's
fingerprint, so it is retrained when the data changes. Besides digits it sees images that are not one
clear digit (noise, smooth blobs, blends of two digits) with flat or split targets, so that it does not
call pure noise a digit with full confidence.
"""
from __future__ import annotations

import functools

import torch
from torch import nn
from torch.nn import functional as F

from . import config
from .data import MNIST, batches, load_mnist, to_signed

FEATURES = 64   # width of the feature layer
FORMAT = 3      # version of the cached file: bump when the network or its training changes
# Images per forward pass when reading many. A chunk's activations (32 maps of 28x28 per image) then stay in the
# CPU's cache: 128 at a time read 2,000 images 3.5x as fast as 1,000 at a time, with the same numbers to the bit
# (one run on a 2-core AMD EPYC; bench/results.md, "Issue 20, third round").
CHUNK = 128


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


def _not_digits(x: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
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
    gen = config.seed_everything(seed, vary=False)   # the same classifier whatever GAN_COURSE_SEED says
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
        odd, odd_target = _not_digits(x[:48], y[:48], gen)
        loss = F.cross_entropy(clf((x + 1) / 2), y) + 0.5 * F.cross_entropy(clf(odd), odd_target)
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
            return _fast_layout(clf.to(dev).eval())
        except Exception:
            print(f"The cached classifier {path} is unreadable; retraining it ({_how_long(data)}).")
    else:
        print(f"Training the quality meter's MNIST classifier once ({_how_long(data)}); cached as {path.name}.")
    clf = _train_classifier(data)
    acc = accuracy(clf, data.heldout.unit(), data.heldout.labels)
    torch.save({"format": FORMAT, "state_dict": {k: v.contiguous().cpu() for k, v in clf.state_dict().items()},
                "heldout_accuracy": acc}, path)
    return _fast_layout(clf)


def _fast_layout(clf: Classifier) -> Classifier:
    """On a CPU, the convolution weights channels-last: oneDNN's convolutions and max-pooling read the images
    about 1.6x as fast that way (float32 throughout, so the meter's numbers move only in their last digits)."""
    if next(clf.parameters()).device.type == "cpu":
        clf.to(memory_format=torch.channels_last)
    return clf


@torch.no_grad()
def predict(clf: Classifier, x01: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
    """Class probabilities ``(n, 10)`` for images in [0, 1]."""
    dev = next(clf.parameters()).device
    return torch.cat([F.softmax(clf(x01[i:i + chunk].to(dev)), 1) for i in range(0, len(x01), chunk)])


def accuracy(clf: Classifier, x01: torch.Tensor, labels: torch.Tensor) -> float:
    return (predict(clf, x01).argmax(1).cpu() == labels.cpu()).float().mean().item()
