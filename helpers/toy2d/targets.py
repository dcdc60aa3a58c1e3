"""The 2-D toy problem: five target distributions in the square ``[-3, 3]²`` and the coverage metric.

Each target is a noisy version of a simple shape (its "skeleton": the centres of a Gaussian mixture, or a
curve) cut into regions (the modes), so :func:`coverage` can say how many regions a set of points reaches.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..config import CourseError

LIMIT = 3.0  # the view is [-LIMIT, LIMIT]²


@dataclass(frozen=True)
class Target:
    """A 2-D distribution: noise of std ``noise`` around a skeleton (points with region labels).

    ``skeleton``: ``(m, 2)`` points (mixture centres, or a dense sampling of a curve);
    ``regions``: the region (mode) of each skeleton point; ``mixture``: True when the skeleton
    points are the centres of a Gaussian mixture with equal weights.
    """

    name: str
    skeleton: torch.Tensor
    regions: torch.Tensor
    noise: float
    mixture: bool

    @property
    def num_regions(self) -> int:
        return int(self.regions.max()) + 1

    @property
    def radius(self) -> float:
        """A point closer than this to the skeleton counts as on the target (3 noise stds)."""
        return 3 * self.noise

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points ``(n, 2)``: a skeleton point drawn uniformly, plus Gaussian noise."""
        idx = torch.randint(len(self.skeleton), (n,), generator=generator)
        return self.skeleton[idx] + self.noise * torch.randn(n, 2, generator=generator)


def _ring(k: int = 8, radius: float = 2.0) -> torch.Tensor:
    t = torch.arange(k) * 2 * math.pi / k
    return torch.stack([radius * torch.cos(t), radius * torch.sin(t)], 1)


def _curve(points: torch.Tensor, k: int) -> torch.Tensor:
    """Region labels cutting a densely sampled curve into ``k`` pieces of equal length (by index)."""
    return (torch.arange(len(points)) * k // len(points)).long()


def _make_targets() -> dict[str, Target]:
    m = 2000
    t = torch.linspace(0, math.pi, m // 2)
    upper = torch.stack([torch.cos(t), torch.sin(t)], 1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], 1)
    moons = 1.6 * (torch.cat([upper, lower]) - torch.tensor([0.5, 0.25]))
    s = torch.linspace(-1, 1, m)
    line = torch.stack([2.2 * s, 1.1 * s], 1)
    a = torch.linspace(0, 2 * math.pi, m + 1)[:-1]
    circle = torch.stack([1.8 * torch.cos(a), 1.8 * torch.sin(a)], 1)
    grid = torch.tensor([[x, y] for x in (-2.0, 0.0, 2.0) for y in (-2.0, 0.0, 2.0)])
    return {
        "ring of 8 Gaussians": Target("ring of 8 Gaussians", _ring(), torch.arange(8), 0.1, True),
        "grid of 9 Gaussians": Target("grid of 9 Gaussians", grid, torch.arange(9), 0.1, True),
        "two moons": Target("two moons", moons, _curve(moons, 8), 0.06, False),
        "circle": Target("circle", circle, _curve(circle, 8), 0.06, False),
        "line": Target("line", line, _curve(line, 8), 0.06, False),
    }


TARGETS = _make_targets()


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise CourseError(f"Unknown target {name!r}; choose one of: {', '.join(TARGETS)}.")
    return TARGETS[name]


def sample_target(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """``n`` points from the named target, shape ``(n, 2)``."""
    return get_target(name).sample(n, generator)


# --------------------------------------------------------------------------- coverage
@dataclass
class Coverage:
    """How a set of points covers a target's regions (modes)."""

    covered: int  # regions holding at least ``min_share`` of their fair share of the points
    regions: int
    on_target: float  # fraction of points within ``target.radius`` of the skeleton
    counts: list[int]  # on-target points per region
    n: int

    def __str__(self) -> str:
        return f"{self.covered}/{self.regions} modes covered, {self.on_target:.0%} of points on target"


def coverage(points: torch.Tensor, target: str | Target, min_share: float = 0.2) -> Coverage:
    """Count the target's regions that the points reach.

    Each point goes to the region of its nearest skeleton point, if it lies within ``target.radius``
    (3 noise stds) of it; a region is covered when it receives at least ``min_share`` times its fair
    share ``n / regions`` of the points. A generator collapsed on one mode covers 1 region.
    """
    target = get_target(target) if isinstance(target, str) else target
    pts = torch.as_tensor(points, dtype=torch.float32).detach().cpu().reshape(-1, 2)
    n = len(pts)
    if n == 0:
        raise CourseError("coverage() needs at least one point.")
    dist, idx = torch.cdist(pts, target.skeleton).min(1)
    on = dist < target.radius
    counts = torch.bincount(target.regions[idx[on]], minlength=target.num_regions)
    need = min_share * n / target.num_regions
    return Coverage(covered=int((counts >= need).sum()), regions=target.num_regions,
                    on_target=float(on.float().mean()), counts=counts.tolist(), n=n)
