"""The latent explorer of notebooks 01 and 03: pick two samples, scrub between them, nudge the latent
along a few random directions."""
from __future__ import annotations

import ipywidgets as W
import torch

from ..config import CourseError
from ..latent import lerp, slerp
from ..training import fixed_noise_sampler
from .base import CourseWidget, images_png, in_range, show_png

PATHS = {"spherical": slerp, "linear": lerp}


class LatentExplorer(CourseWidget):
    """``explorer.widget`` is the ipywidgets box; ``explorer.set(a=..., b=..., t=..., nudges=[...])``
    does the same from code (values are checked; a bad one is shown in the widget and raised)."""

    def __init__(self, G, choices: int = 16, directions: int = 3, seed: int = 0, label: int | None = None):
        super().__init__()
        self.G, self.label = G, label
        self.z = G.noise(choices, seed=seed).cpu()     # from G's own prior (a mixture for notebook 03's model)
        q, _ = torch.linalg.qr(torch.randn(G.nz, directions, generator=torch.Generator().manual_seed(seed + 1)))
        self.directions = q.T * G.nz ** 0.5 / 4  # orthonormal directions, scaled so ±1 is a visible step
        idx = list(range(choices))
        c = self.control
        self.w_a = c(W.Dropdown, "sample A", "170px", options=idx, value=0)
        self.w_b = c(W.Dropdown, "sample B", "170px", options=idx, value=1)
        self.w_t = c(W.FloatSlider, "A → B", value=0.5, min=0.0, max=1.0, step=0.05, continuous_update=True)
        self.w_path = c(W.ToggleButtons, "path", options=list(PATHS), value="spherical", style={"button_width": "80px"})
        self.w_nudges = [c(W.FloatSlider, f"direction {i + 1}", value=0.0, min=-3.0, max=3.0, step=0.1)
                         for i in range(directions)]
        self.thumbs = W.Image(format="png")
        self.image = W.Image(format="png")
        self.strip = W.Image(format="png")
        self.on_change([self.w_a, self.w_b, self.w_t, self.w_path, *self.w_nudges])
        show_png(self.thumbs, images_png(self._generate(self.z), nrow=8, scale=2))
        self.widget = W.VBox([
            W.HTML("<b>The choices</b> (numbered 0, 1, 2, ... row by row)"), self.thumbs,
            W.HBox([self.w_a, self.w_b, self.w_path]), self.w_t, *self.w_nudges,
            self.message,
            W.HBox([self.image, W.VBox([W.HTML("<b>The path from A to B</b>"), self.strip])]),
        ])
        self.redraw()

    def _generate(self, z: torch.Tensor) -> torch.Tensor:
        z = z.to(self.G.device)
        labels = (torch.full((len(z),), self.label or 0, dtype=torch.long, device=z.device)
                  if self.G.num_classes else None)
        return fixed_noise_sampler(self.G, z, labels)()

    def current_z(self) -> torch.Tensor:
        z = PATHS[self.w_path.value](self.z[self.w_a.value], self.z[self.w_b.value], self.w_t.value)[0]
        for w, d in zip(self.w_nudges, self.directions):
            z = z + w.value * d
        return z

    def check(self) -> None:
        if self.w_a.value == self.w_b.value:
            raise CourseError("Pick two different samples for A and B to see a path between them.")

    def render(self) -> None:
        show_png(self.image, images_png(self._generate(self.current_z()[None]), nrow=1, scale=6))
        zs = PATHS[self.w_path.value](self.z[self.w_a.value], self.z[self.w_b.value], torch.linspace(0, 1, 8))
        show_png(self.strip, images_png(self._generate(zs), nrow=8, scale=3))

    def set(self, a: int | None = None, b: int | None = None, t: float | None = None,
            path: str | None = None, nudges: list[float] | None = None) -> "LatentExplorer":
        n = len(self.z)
        with self.checking():
            for name, v in (("a", a), ("b", b)):
                if v is not None and not in_range(v, 0, n - 1, whole=True):
                    raise CourseError(f"Sample {name}={v!r} is out of range; choose a number from 0 to {n - 1}.")
            if t is not None and not in_range(t, 0, 1):
                raise CourseError(f"t={t!r} must lie between 0 (sample A) and 1 (sample B).")
            if path is not None and path not in PATHS:
                raise CourseError(f"path={path!r} must be 'spherical' or 'linear'.")
            k = len(self.w_nudges)
            if nudges is not None and (len(nudges) != k or not all(in_range(v, -3, 3) for v in nudges)):
                raise CourseError(f"nudges must be {k} numbers between -3 and 3.")
        with self.batch():
            for w, v in ((self.w_a, a), (self.w_b, b), (self.w_t, t), (self.w_path, path)):
                if v is not None:
                    w.value = v
            for w, v in zip(self.w_nudges, nudges or []):
                w.value = v
        return self


def latent_explorer(G, **kwargs) -> LatentExplorer:
    """A :class:`LatentExplorer` for generator ``G``; display it as the last line of a cell."""
    return LatentExplorer(G, **kwargs)
