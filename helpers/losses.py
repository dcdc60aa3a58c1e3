"""GAN losses as small functions of the discriminator's raw scores (logits), one pair per objective.

Every ``d_*`` function is what D minimises, every ``g_*`` what G minimises. With ``a`` the score and
``D = sigmoid(a)``:

=====================  =============================================  ===========================
objective              D minimises                                    G minimises
=====================  =============================================  ===========================
saturating (minimax)   -log D(x) - log(1 - D(G(z)))                   log(1 - D(G(z)))
non-saturating         same as above                                  -log D(G(z))
least squares          ½(a_real - 1)² + ½ a_fake²                     ½(a_fake - 1)²
hinge                  relu(1 - a_real) + relu(1 + a_fake)            -a_fake
Wasserstein-GP         a_fake - a_real + λ·(‖∇a(x̂)‖ - 1)²             -a_fake
=====================  =============================================  ===========================

``log(1 - sigmoid(a)) = -softplus(a)`` and ``-log sigmoid(a) = softplus(-a)`` keep everything finite.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch.nn import functional as F

from .config import CourseError


def d_bce(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """BCE with label 1 on real and 0 on fake: -log D(x) - log(1 - D(G(z))), averaged."""
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def g_saturating(fake: torch.Tensor) -> torch.Tensor:
    """The minimax generator loss log(1 - D(G(z))); its gradient vanishes when D(G(z)) -> 0."""
    return -F.softplus(fake).mean()


def g_nonsaturating(fake: torch.Tensor) -> torch.Tensor:
    """-log D(G(z)): BCE with label 1 on fakes (Goodfellow et al.'s practical choice)."""
    return F.softplus(-fake).mean()


def d_least_squares(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake ** 2).mean()


def g_least_squares(fake: torch.Tensor) -> torch.Tensor:
    return 0.5 * ((fake - 1) ** 2).mean()


def d_hinge(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def g_hinge(fake: torch.Tensor) -> torch.Tensor:
    return -fake.mean()


def d_wasserstein(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic's loss without the penalty; add :func:`gradient_penalty` times λ."""
    return fake.mean() - real.mean()


def gradient_penalty(D: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP: mean of (‖∇_x̂ D(x̂)‖₂ - 1)² at random points x̂ between real and fake images."""
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=generator).to(real.device)
    mix = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mix).sum(), mix, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


@dataclass(frozen=True)
class GANLoss:
    name: str
    d: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g: Callable[[torch.Tensor], torch.Tensor]
    sigmoid: bool  # is sigmoid(score) a probability "real"? (False: least squares, hinge, Wasserstein)
    penalty: float = 0.0  # gradient-penalty weight λ (Wasserstein-GP)


LOSSES = {
    "saturating": GANLoss("saturating", d_bce, g_saturating, True),
    "non-saturating": GANLoss("non-saturating", d_bce, g_nonsaturating, True),
    "least-squares": GANLoss("least-squares", d_least_squares, g_least_squares, False),
    "hinge": GANLoss("hinge", d_hinge, g_hinge, False),
    "wgan-gp": GANLoss("wgan-gp", d_wasserstein, g_hinge, False, penalty=10.0),
}


def get_loss(name: str) -> GANLoss:
    if name not in LOSSES:
        raise CourseError(f"Unknown loss {name!r}; choose one of {', '.join(LOSSES)}.")
    return LOSSES[name]
