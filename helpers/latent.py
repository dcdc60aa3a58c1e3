"""Walking in latent space: linear and spherical interpolation (the explorer widget is
:mod:`helpers.widgets.latent_explorer`).

Linear interpolation ``(1 - t) z_a + t z_b`` cuts through the inside of the Gaussian ball: halfway
between two typical z (norm about sqrt(nz)) its norm drops to about sqrt(nz / 2), where the
generator saw almost no training input. Spherical interpolation (slerp) follows the great circle, so
the norm stays typical all the way.
"""
from __future__ import annotations

import torch


def lerp(z_a: torch.Tensor, z_b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=z_a.dtype, device=z_a.device).reshape(-1, 1)
    return (1 - t) * z_a + t * z_b


def slerp(z_a: torch.Tensor, z_b: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Spherical interpolation: sin((1-t)Ω)/sin Ω · z_a + sin(tΩ)/sin Ω · z_b, Ω the angle between them."""
    t = torch.as_tensor(t, dtype=z_a.dtype, device=z_a.device).reshape(-1, 1)
    cos = torch.dot(z_a, z_b) / (z_a.norm() * z_b.norm())
    omega = torch.arccos(cos.clamp(-1 + 1e-7, 1 - 1e-7))
    if omega.abs() < 1e-4:
        return lerp(z_a, z_b, t)
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)
