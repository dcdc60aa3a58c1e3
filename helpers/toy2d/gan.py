"""The 2-D toy GAN: tiny MLP players, the :class:`ToyGAN` trainer, and Mescheder et al.'s Dirac GAN::

    gan = ToyGAN("ring of 8 Gaussians", loss="non-saturating", seed=0)
    gan.train(2000)
    print(gan.coverage())          # e.g. "8/8 modes covered, 93% of points on target"

The losses come from :mod:`helpers.losses` (``get_loss(name)``: ``d(real, fake)`` and ``g(fake)`` on
D's raw scores). The models always run on the CPU: with a few thousand weights, a GPU only adds
transfer time.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn

from .. import losses
from ..config import CourseError, one_thread
from .targets import Coverage, coverage, get_target


# --------------------------------------------------------------------------- models
def mlp(sizes: list[int], act: Callable[[], nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


class ToyGenerator(nn.Module):
    """z (``nz``) -> ``depth`` hidden layers of ``hidden`` units (ReLU) -> a point in the plane."""

    def __init__(self, nz: int = 2, hidden: int = 64, depth: int = 3):
        super().__init__()
        self.nz = nz
        self.net = mlp([nz] + [hidden] * depth + [2], nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ToyDiscriminator(nn.Module):
    """A point -> ``depth`` hidden layers (LeakyReLU 0.2) -> one raw score (logit)."""

    def __init__(self, hidden: int = 64, depth: int = 3):
        super().__init__()
        self.net = mlp([2] + [hidden] * depth + [1], lambda: nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()


def grad_norm(module: nn.Module) -> float:
    """The L2 norm of all of a module's parameter gradients taken together."""
    grads = [p.grad.flatten() for p in module.parameters() if p.grad is not None]
    return float(torch.cat(grads).norm()) if grads else 0.0


# --------------------------------------------------------------------------- training
class ToyGAN:
    """A generator and a discriminator on a 2-D target, trained with one of :mod:`helpers.losses`.

    ``step()`` does ``d_steps`` discriminator updates, then one generator update, and records
    ``loss_d``, ``loss_g``, ``d_real`` and ``d_fake`` (D's mean probability "real" on real and fake
    points; the raw score's mean for losses without a sigmoid) and ``g_grad_norm`` (the norm of G's
    parameter gradient in that update). Seeded: the same arguments give the same run.
    """

    def __init__(self, target: str = "ring of 8 Gaussians", loss: str = "non-saturating", d_steps: int = 1,
                 lr_d: float = 1e-3, lr_g: float = 1e-3, batch_size: int = 256, nz: int = 2, hidden: int = 64,
                 depth: int = 3, betas: tuple[float, float] = (0.5, 0.999), optimizer: str = "adam", seed: int = 0):
        self.target = get_target(target)
        self.loss = losses.get_loss(loss)
        check_settings(lr_d=lr_d, lr_g=lr_g, d_steps=d_steps)
        self.d_steps, self.batch_size, self.seed, self.betas = int(d_steps), int(batch_size), seed, betas
        self.lr_d, self.lr_g = float(lr_d), float(lr_g)
        self.nz, self.hidden, self.depth = nz, hidden, depth
        if optimizer not in ("adam", "sgd"):
            raise CourseError(f"optimizer must be 'adam' or 'sgd'; got {optimizer!r}.")
        self.optimizer = optimizer
        self.reset()

    def reset(self) -> None:
        """New models and optimizers from the seed; clears the history."""
        torch.manual_seed(self.seed)
        self.G = ToyGenerator(self.nz, self.hidden, self.depth)
        self.D = ToyDiscriminator(self.hidden, self.depth)
        self.g_params = list(self.G.parameters())
        if self.optimizer == "adam":   # fused: one kernel for all the weights, not a few per tensor (x1.1 on a toy step)
            self.opt_g = torch.optim.Adam(self.g_params, lr=self.lr_g, betas=self.betas, fused=True)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=self.lr_d, betas=self.betas, fused=True)
        else:
            self.opt_g = torch.optim.SGD(self.g_params, lr=self.lr_g)
            self.opt_d = torch.optim.SGD(self.D.parameters(), lr=self.lr_d)
        self.rng = torch.Generator().manual_seed(self.seed + 1)  # data, noise and penalty mixing
        self.history: dict[str, list[float]] = {}
        self.steps = 0
        # Fixed noise for the view and the metrics: the same z at every step.
        self.fixed_z = torch.randn(1000, self.nz, generator=torch.Generator().manual_seed(self.seed + 2))

    def set_lr(self, lr_d: float | None = None, lr_g: float | None = None) -> None:
        check_settings(lr_d=lr_d, lr_g=lr_g)
        if lr_d is not None:
            self.lr_d = float(lr_d)
            for group in self.opt_d.param_groups:
                group["lr"] = self.lr_d
        if lr_g is not None:
            self.lr_g = float(lr_g)
            for group in self.opt_g.param_groups:
                group["lr"] = self.lr_g

    def noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.nz, generator=self.rng)

    def real(self, n: int) -> torch.Tensor:
        return self.target.sample(n, self.rng)

    def prob(self, scores: torch.Tensor) -> torch.Tensor:
        """D's probability "real" for sigmoid losses; the raw score otherwise."""
        return torch.sigmoid(scores) if self.loss.sigmoid else scores

    def d_step(self) -> dict[str, float]:
        """One discriminator update on a fresh real batch and a fresh fake batch."""
        real = self.real(self.batch_size)
        with torch.no_grad():
            fake = self.G(self.noise(self.batch_size))
        real_s, fake_s = self.D(torch.cat([real, fake])).chunk(2)   # both batches in one pass through D
        loss_d = self.loss.d(real_s, fake_s)
        if self.loss.penalty:
            loss_d = loss_d + self.loss.penalty * losses.gradient_penalty(self.D, real, fake, generator=self.rng)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {"loss_d": loss_d.item(), "d_real": self.prob(real_s).mean().item(),
                "d_fake": self.prob(fake_s).mean().item()}

    def g_step(self) -> dict[str, float]:
        """One generator update: minimise the loss's ``g`` on D's scores of fresh fakes."""
        fake_s = self.D(self.G(self.noise(self.batch_size)))
        loss_g = self.loss.g(fake_s)
        grads = torch.autograd.grad(loss_g, self.g_params)   # G's weights only: D's gradients are not needed
        for p, g in zip(self.g_params, grads):
            p.grad = g
        norm = grad_norm(self.G)
        self.opt_g.step()
        return {"loss_g": loss_g.item(), "g_grad_norm": norm}

    def step(self) -> dict[str, float]:
        """``d_steps`` D updates, then one G update; returns and records the numbers."""
        with one_thread():
            for _ in range(self.d_steps):
                out = self.d_step()
            out.update(self.g_step())
        for k, v in out.items():
            self.history.setdefault(k, []).append(v)
        self.steps += 1
        return out

    def train(self, steps: int, train_d: bool = True, train_g: bool = True) -> "ToyGAN":
        """``steps`` steps; ``train_d=False`` or ``train_g=False`` freezes that player."""
        if not isinstance(steps, int) or steps < 0:
            raise CourseError(f"steps must be a whole number >= 0; got {steps!r}.")
        with one_thread():
            self._train(steps, train_d, train_g)
        return self

    def _train(self, steps: int, train_d: bool, train_g: bool) -> None:
        for _ in range(steps):
            if train_d and train_g:
                self.step()
                continue
            out = {}
            if train_d:
                for _ in range(self.d_steps):
                    out = self.d_step()
            if train_g:
                out.update(self.g_step())
            for k, v in out.items():
                self.history.setdefault(k, []).append(v)
            self.steps += 1

    @torch.no_grad()
    def fakes(self, n: int = 1000) -> torch.Tensor:
        """G's points for the first ``n`` fixed noise vectors (the same z every call)."""
        if n > len(self.fixed_z):
            extra = torch.randn(n - len(self.fixed_z), self.nz, generator=torch.Generator().manual_seed(self.seed + 3))
            self.fixed_z = torch.cat([self.fixed_z, extra])
        return self.G(self.fixed_z[:n])

    def coverage(self, n: int = 1000) -> Coverage:
        return coverage(self.fakes(n), self.target)

    def scores(self, points: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.D(points)

    def point_gradients(self, points: torch.Tensor) -> torch.Tensor:
        """``-∇_x`` of G's loss for each point on its own: the direction in which G's update pushes it."""
        x = points.detach().clone().requires_grad_(True)
        per_point = self.loss.g(self.D(x)) * len(x)  # the losses average; undo it to get per-point gradients
        (grad,) = torch.autograd.grad(per_point, x)
        return -grad

    def g_gradient_norm(self, n: int = 256, loss: str | None = None) -> float:
        """The norm of G's parameter gradient for ``loss`` (default: this GAN's) on ``n`` fixed-noise fakes,
        without updating anything."""
        g_loss = losses.get_loss(loss).g if loss else self.loss.g
        self.G.zero_grad(set_to_none=True)
        self.D.requires_grad_(False)
        try:
            g_loss(self.D(self.G(self.fixed_z[:n]))).backward()
        finally:
            self.D.requires_grad_(True)
        norm = grad_norm(self.G)
        self.G.zero_grad(set_to_none=True)
        return norm


def check_settings(lr_d=None, lr_g=None, d_steps=None) -> None:
    """Raise a :class:`CourseError` with one sentence for a setting the toy cannot train with."""
    for name, value in (("discriminator", lr_d), ("generator", lr_g)):
        if value is None:
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise CourseError(f"The {name} learning rate must be a positive number (try 0.001); got {value!r}.")
        if value > 1:
            raise CourseError(f"The {name} learning rate {value} is far too large for Adam; use a value below 1 (try 0.001).")
    if d_steps is not None and (not isinstance(d_steps, int) or d_steps < 1):
        raise CourseError(f"D steps per G step must be a whole number of at least 1; got {d_steps!r}.")


# --------------------------------------------------------------------------- the Dirac GAN
def dirac_gan(steps: int, lr: float = 0.1, theta: float = 1.0, psi: float = 1.0, mode: str = "simultaneous",
              gamma: float = 0.0) -> np.ndarray:
    """Mescheder et al.'s Dirac GAN: real data is the point 0, G puts all mass on θ, D(x) = sigmoid(ψ·x).

    Trained with the non-saturating loss by gradient steps of size ``lr``, ``"simultaneous"`` (both
    players use the old values) or ``"alternating"`` (D first, then G sees the new D). ``gamma`` > 0
    adds the R1 penalty γ/2·ψ² (the squared gradient of D's score on real data, x = 0: ψ²).
    The only equilibrium is θ = ψ = 0. Returns the ``(steps + 1, 2)`` array of (θ, ψ).
    """
    if mode not in ("simultaneous", "alternating"):
        raise CourseError(f"mode must be 'simultaneous' or 'alternating'; got {mode!r}.")
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    path = [(theta, psi)]
    for _ in range(steps):
        # D maximises log sigmoid(ψ·0) + log(1 - sigmoid(ψθ)) - γ/2 ψ²; its gradient ascent step:
        grad_psi = -sig(psi * theta) * theta - gamma * psi
        new_psi = psi + lr * grad_psi
        psi_for_g = new_psi if mode == "alternating" else psi
        # G minimises -log sigmoid(ψθ); gradient descent step:
        grad_theta = -(1 - sig(psi_for_g * theta)) * psi_for_g
        theta, psi = theta - lr * grad_theta, new_psi
        path.append((theta, psi))
    return np.asarray(path)
