"""Generators and discriminators. Every generator shares :class:`Generator`'s ``sample`` API.

Discriminators return raw scores (logits), never probabilities: the losses apply the sigmoid
inside a numerically stable ``BCEWithLogits``, and least-squares / hinge / Wasserstein losses need
the raw score anyway. ``torch.sigmoid(D(x))`` is the probability ``D(x)`` of the equations.
"""
from __future__ import annotations

import torch
from torch import nn

from .config import CourseError

IMAGE_SHAPE = (1, 28, 28)
IMAGE_SIZE = 28 * 28


class Generator(nn.Module):
    """Base class: ``forward(z, labels=None)`` gives images in ``[-1, 1]`` of shape ``(n, 1, 28, 28)``.

    Subclasses set ``self.config`` (the keyword arguments that rebuild them, saved in checkpoints),
    ``self.nz`` (latent size) and ``self.num_classes`` (0 for unconditional models).
    """

    kind = "generator"
    nz: int
    num_classes: int = 0
    config: dict

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def noise(self, n: int, seed: int | None = None) -> torch.Tensor:
        """``n`` latent vectors z ~ N(0, I) on the model's device (drawn on the CPU when seeded, so
        a seed gives the same z on every device)."""
        if seed is None:
            return torch.randn(n, self.nz, device=self.device)
        return torch.randn(n, self.nz, generator=torch.Generator().manual_seed(seed)).to(self.device)

    def check_labels(self, n: int, labels) -> torch.Tensor | None:
        if not self.num_classes:
            if labels is not None:
                raise CourseError(f"This {self.kind} generator is unconditional; call sample(n) without labels.")
            return None
        if labels is None:
            raise CourseError(f"This conditional generator needs labels: sample(n, labels=...) with {n} digits in 0-{self.num_classes - 1}.")
        labels = torch.as_tensor(labels, dtype=torch.long).flatten()
        if labels.numel() == 1 and n > 1:
            labels = labels.expand(n)
        if labels.numel() != n:
            raise CourseError(f"Got {labels.numel()} labels for {n} samples; pass one label, or exactly n labels.")
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise CourseError(f"Labels must be digits 0-{self.num_classes - 1}; got {labels.min().item()}..{labels.max().item()}.")
        return labels.to(self.device)

    @torch.no_grad()
    def sample(self, n: int, labels=None, seed: int | None = None) -> torch.Tensor:
        """``n`` images as a float CPU tensor ``(n, 1, 28, 28)`` in ``[0, 1]``.

        ``labels``: one digit or ``n`` digits, for conditional models only. ``seed``: fixes z.
        """
        if not isinstance(n, int) or n < 1:
            raise CourseError(f"n must be a positive whole number of samples; got {n!r}.")
        labels = self.check_labels(n, labels)
        was_training = self.training
        self.eval()
        try:
            z = self.noise(n, seed)
            args = (z,) if labels is None else (z, labels)
            out = torch.cat([self(*[a[i:i + 500] for a in args]) for i in range(0, n, 500)])
        finally:
            self.train(was_training)
        return ((out.float().cpu() + 1) / 2).clamp(0, 1)


class MLPGenerator(Generator):
    """z (nz) -> hidden layers (Linear, BatchNorm, LeakyReLU 0.2) -> 784 -> tanh -> 1x28x28."""

    kind = "mlp"

    def __init__(self, nz: int = 64, hidden: tuple[int, ...] = (256, 512, 1024), batchnorm: bool = True):
        super().__init__()
        self.nz, self.config = nz, {"nz": nz, "hidden": list(hidden), "batchnorm": batchnorm}
        layers, width = [], nz
        for h in hidden:
            layers += [nn.Linear(width, h)]
            if batchnorm:
                layers += [nn.BatchNorm1d(h)]
            layers += [nn.LeakyReLU(0.2)]
            width = h
        layers += [nn.Linear(width, IMAGE_SIZE), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *IMAGE_SHAPE)


class MLPDiscriminator(nn.Module):
    """1x28x28 -> 784 -> hidden layers (Linear, LeakyReLU 0.2) -> one logit per image."""

    def __init__(self, hidden: tuple[int, ...] = (512, 256), dropout: float = 0.0):
        super().__init__()
        self.config = {"hidden": list(hidden), "dropout": dropout}
        layers, width = [nn.Flatten()], IMAGE_SIZE
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            if dropout:
                layers += [nn.Dropout(dropout)]
            width = h
        layers += [nn.Linear(width, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


# Generator classes by ``kind``: checkpoints store the kind and config and are rebuilt from here.
# Later notebooks register theirs (DCGAN, conditional) with ``register_generator``.
GENERATORS: dict[str, type[Generator]] = {"mlp": MLPGenerator}


def register_generator(cls: type[Generator]) -> type[Generator]:
    GENERATORS[cls.kind] = cls
    return cls


def build_generator(kind: str, config: dict) -> Generator:
    if kind not in GENERATORS:
        raise CourseError(f"Unknown generator kind {kind!r}; known kinds: {', '.join(sorted(GENERATORS))}.")
    return GENERATORS[kind](**config)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
