"""Walking in latent space: interpolation and the latent explorer widget.

Linear interpolation ``(1 - t) z_a + t z_b`` cuts through the inside of the Gaussian ball: halfway
between two typical z (norm about sqrt(nz)) its norm drops to about sqrt(nz / 2), where the
generator saw almost no training input. Spherical interpolation (slerp) follows the great circle, so
the norm stays typical all the way.
"""
from __future__ import annotations

import io

import numpy as np
import torch

from .config import CourseError


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


def _png(images01: torch.Tensor, nrow: int, scale: int) -> bytes:
    from PIL import Image

    from .plots import image_grid

    grid = image_grid(images01, nrow=nrow, pad=2, pad_value=0.35)
    img = Image.fromarray((grid * 255).round().astype(np.uint8))
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


class LatentExplorer:
    """Pick two samples, scrub between them, nudge the latent along a few random directions.

    ``explorer.widget`` is the ipywidgets box; ``explorer.set(a=..., b=..., t=..., nudges=[...])``
    does the same from code (values are checked, a bad one gets a message in the widget).
    """

    def __init__(self, G, choices: int = 16, directions: int = 3, seed: int = 0, label: int | None = None):
        import ipywidgets as W

        self.G, self.label = G, label
        self.z = G.noise(choices, seed=seed).cpu()     # from G's own prior (a mixture for notebook 03's model)
        q, _ = torch.linalg.qr(torch.randn(G.nz, directions, generator=torch.Generator().manual_seed(seed + 1)))
        self.directions = q.T * G.nz ** 0.5 / 4  # orthonormal directions, scaled so ±1 is a visible step
        idx = list(range(choices))
        self.w_a = W.Dropdown(options=idx, value=0, description="sample A", layout=W.Layout(width="170px"))
        self.w_b = W.Dropdown(options=idx, value=1, description="sample B", layout=W.Layout(width="170px"))
        self.w_t = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="A → B", continuous_update=True)
        self.w_path = W.ToggleButtons(options=["spherical", "linear"], value="spherical", description="path",
                                      style={"button_width": "80px"})
        self.w_nudges = [W.FloatSlider(value=0.0, min=-3.0, max=3.0, step=0.1, description=f"direction {i + 1}")
                         for i in range(directions)]
        self.thumbs = W.Image(format="png")
        self.image = W.Image(format="png")
        self.strip = W.Image(format="png")
        self.message = W.HTML()
        for w in (self.w_a, self.w_b, self.w_t, self.w_path, *self.w_nudges):
            w.observe(lambda _change: self.render(), names="value")
        self._show(self.thumbs, _png(self._generate(self.z), nrow=8, scale=2))
        self.widget = W.VBox([
            W.HTML("<b>The choices</b> (numbered 0, 1, 2, ... row by row)"), self.thumbs,
            W.HBox([self.w_a, self.w_b, self.w_path]), self.w_t, *self.w_nudges,
            W.HBox([self.image, W.VBox([W.HTML("<b>The path from A to B</b>"), self.strip])]),
            self.message,
        ])
        self.render()

    def _generate(self, z: torch.Tensor) -> torch.Tensor:
        from .training import fixed_noise_sampler

        z = z.to(self.G.device)
        labels = (torch.full((len(z),), self.label or 0, dtype=torch.long, device=z.device)
                  if self.G.num_classes else None)
        return fixed_noise_sampler(self.G, z, labels)()

    def current_z(self) -> torch.Tensor:
        path = slerp if self.w_path.value == "spherical" else lerp
        z = path(self.z[self.w_a.value], self.z[self.w_b.value], self.w_t.value)[0]
        for w, d in zip(self.w_nudges, self.directions):
            z = z + w.value * d
        return z

    @staticmethod
    def _show(widget, png: bytes) -> None:
        """Set an Image widget's PNG at its natural size (a VBox would otherwise stretch it)."""
        widget.value = png
        widget.layout.width = f"{int.from_bytes(png[16:20], 'big')}px"  # PNG header: width

    def render(self) -> None:
        if self.w_a.value == self.w_b.value:
            self.message.value = "<span style='color:#b00'>Pick two different samples for A and B to see a path between them.</span>"
        else:
            self.message.value = ""
        self._show(self.image, _png(self._generate(self.current_z()[None]), nrow=1, scale=6))
        path = slerp if self.w_path.value == "spherical" else lerp
        zs = path(self.z[self.w_a.value], self.z[self.w_b.value], torch.linspace(0, 1, 8))
        self._show(self.strip, _png(self._generate(zs), nrow=8, scale=3))

    def set(self, a: int | None = None, b: int | None = None, t: float | None = None,
            path: str | None = None, nudges: list[float] | None = None) -> "LatentExplorer":
        n = len(self.z)
        for name, v in (("a", a), ("b", b)):
            if v is not None and (not isinstance(v, int) or not 0 <= v < n):
                raise CourseError(f"Sample {name}={v!r} is out of range; choose a number from 0 to {n - 1}.")
        if t is not None and not 0.0 <= t <= 1.0:
            raise CourseError(f"t={t!r} must lie between 0 (sample A) and 1 (sample B).")
        if path is not None and path not in ("spherical", "linear"):
            raise CourseError(f"path={path!r} must be 'spherical' or 'linear'.")
        if nudges is not None and (len(nudges) != len(self.w_nudges) or any(abs(v) > 3 for v in nudges)):
            raise CourseError(f"nudges must be {len(self.w_nudges)} numbers between -3 and 3.")
        with self.image.hold_sync():
            if a is not None:
                self.w_a.value = a
            if b is not None:
                self.w_b.value = b
            if t is not None:
                self.w_t.value = t
            if path is not None:
                self.w_path.value = path
            for w, v in zip(self.w_nudges, nudges or []):
                w.value = v
        return self

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def latent_explorer(G, **kwargs) -> LatentExplorer:
    """A :class:`LatentExplorer` for generator ``G``; display it as the last line of a cell."""
    return LatentExplorer(G, **kwargs)


class DigitPicker:
    """Generate a chosen digit with a conditional generator: a digit dropdown, a seed slider, a grid.

    ``picker.set(digit=8, seed=3)`` does the same from code; a bad value is refused with one sentence.
    """

    def __init__(self, G, digit: int = 8, seed: int = 0, count: int = 16):
        import ipywidgets as W

        if not getattr(G, "num_classes", 0):
            raise CourseError("The digit picker needs a conditional generator (one trained with labels, e.g. 'cgan').")
        self.G, self.count = G, count
        self.w_digit = W.Dropdown(options=list(range(G.num_classes)), value=digit, description="digit",
                                  layout=W.Layout(width="150px"))
        self.w_seed = W.IntSlider(value=seed, min=0, max=99, description="noise seed")
        self.image = W.Image(format="png")
        self.message = W.HTML()
        for w in (self.w_digit, self.w_seed):
            w.observe(lambda _change: self.render(), names="value")
        self.widget = W.VBox([W.HBox([self.w_digit, self.w_seed]), self.image, self.message])
        self.render()

    def render(self) -> None:
        x = self.G.sample(self.count, labels=self.w_digit.value, seed=self.w_seed.value)
        LatentExplorer._show(self.image, _png(x, nrow=8, scale=3))
        self.message.value = f"{self.count} samples of the digit {self.w_digit.value}, noise seed {self.w_seed.value}"

    def set(self, digit: int | None = None, seed: int | None = None) -> "DigitPicker":
        if digit is not None and (not isinstance(digit, int) or not 0 <= digit < self.G.num_classes):
            raise CourseError(f"digit={digit!r} is not a digit this generator knows; choose 0 to {self.G.num_classes - 1}.")
        if seed is not None and (not isinstance(seed, int) or not 0 <= seed <= 99):
            raise CourseError(f"seed={seed!r} must be a whole number from 0 to 99.")
        with self.image.hold_sync():
            if digit is not None:
                self.w_digit.value = digit
            if seed is not None:
                self.w_seed.value = seed
        return self

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def digit_picker(G, **kwargs) -> DigitPicker:
    """A :class:`DigitPicker` for a conditional generator ``G``; display it as the last line of a cell."""
    return DigitPicker(G, **kwargs)
