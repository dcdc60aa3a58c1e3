"""The restoration lab of notebook 05: pick a held-out digit, a degradation and its strength (or a mask),
press Restore and watch ``G(z)`` converge; the classical baseline is shown beside it.

The search for ``z`` is the notebook's own function, passed in as ``restore``; this module only holds
the controls, the drawing and the checks on the values (a bad one gets one sentence, in the widget's error
line, and raised as a :class:`~helpers.config.CourseError` when it comes from code).
"""
from __future__ import annotations

from typing import Callable

import ipywidgets as W
import torch

from .. import restore as R
from ..config import CourseError
from .base import CourseWidget, images_png, in_range, show_png, status_line

# Degradation -> (strength label, min, max, step, default). Strengths are in [0, 1] image units / pixels.
STRENGTH = {
    "noise": ("noise σ", 0.05, 1.0, 0.05, 0.4),
    "blur": ("blur σ (px)", 0.5, 3.0, 0.1, 1.5),
    "mask": ("hidden share", 0.05, 0.95, 0.05, 0.5),
}
MASKS = ("bottom half", "top half", "left half", "right half", "box", "random pixels")
STEPS = (10, 2000)
BOX = (("box top", 8), ("box left", 8), ("box height", 12), ("box width", 12))  # description, default

# restore(y01, op, steps, callback) -> restored images in [0, 1]; callback(step, x01, loss) may be called.
RestoreFn = Callable[..., torch.Tensor]


def make_operator(kind: str, strength: float, mask: str = "bottom half", box: tuple[int, int, int, int] = (8, 8, 12, 12),
                  seed: int = 0) -> R.Operator:
    """The degradation the lab applies, checked: ``kind`` is 'noise', 'blur' or 'mask'."""
    if kind not in STRENGTH:
        raise CourseError(f"degradation={kind!r} is not one the lab knows; choose 'noise', 'blur' or 'mask'.")
    label, lo, hi, _, _ = STRENGTH[kind]
    if not in_range(strength, lo, hi):
        raise CourseError(f"The {label} for {kind} must be a number from {lo:g} to {hi:g}; got {strength!r}.")
    if kind == "noise":
        return R.AddNoise(float(strength), seed=seed)
    if kind == "blur":
        return R.Compose(R.GaussianBlur(float(strength)), R.AddNoise(0.02, seed=seed))
    if mask not in MASKS:
        raise CourseError(f"mask={mask!r} is not a mask the lab knows; choose one of {', '.join(MASKS)}.")
    if mask.endswith("half"):
        return R.Mask.half(mask.split()[0])
    if mask == "box":
        if not (isinstance(box, (tuple, list)) and len(box) == 4):
            raise CourseError(f"box={box!r} must be four whole numbers: (top, left, height, width).")
        if box[2] < 1 or box[3] < 1:
            raise CourseError("The box mask is empty (height or width 0), so nothing is hidden; make it at least 1x1.")
        return R.Mask.box(*box)
    return R.Mask.random_pixels(float(strength), seed=seed)


class RestorationLab(CourseWidget):
    """Controls: digit, degradation, strength, mask (type and box), steps, Restore.

    ``lab.set(digit=3, degradation="mask", mask="box", box=(10, 4, 10, 20))`` changes the controls from
    code (values checked); ``lab.run()`` restores with the current settings, as the button does.
    """

    def __init__(self, digits01: torch.Tensor, restore: RestoreFn, steps: int = 300, every: int = 10):
        super().__init__()
        if not isinstance(digits01, torch.Tensor) or digits01.ndim != 4 or tuple(digits01.shape[1:]) != (1, 28, 28):
            raise CourseError("The lab needs held-out digits as a (n, 1, 28, 28) tensor in [0, 1].")
        self.digits, self.restore, self.every = digits01.detach().cpu(), restore, every
        c = self.control
        self.w_digit = c(W.IntSlider, "digit", value=0, min=0, max=len(digits01) - 1)
        self.w_kind = c(W.ToggleButtons, "degradation", options=list(STRENGTH), value="mask", style={"button_width": "70px"})
        self.w_strength = c(W.FloatSlider, "strength", continuous_update=False)
        self.strength_unit = W.HTML()
        self.w_mask = c(W.Dropdown, "mask", "230px", options=MASKS, value="bottom half")
        self.w_box = [c(W.IntSlider, d, "240px", value=v, min=0, max=28, continuous_update=False) for d, v in BOX]
        self.w_steps = c(W.IntSlider, "steps", value=steps, min=STEPS[0], max=STEPS[1], step=10)
        self.run_button = self.button("Restore", self.run, width="auto", button_style="primary", icon="play")
        self.images = W.Image(format="png")
        self.status = status_line()
        self._strength_for(self.w_kind.value)
        self.on_change([self.w_kind], self._kind_changed)
        self.on_change([self.w_digit, self.w_strength, self.w_mask, *self.w_box])
        self.widget = W.VBox([
            W.HBox([self.w_digit, self.w_kind]), W.HBox([self.w_strength, self.strength_unit, self.w_mask]),
            W.HBox(self.w_box[:2]), W.HBox(self.w_box[2:]), W.HBox([self.w_steps, self.run_button]),
            self.message,
            W.HTML("<b>original · measured · restored with G · classical baseline</b>"),
            self.images, self.status,
        ])
        self.redraw()

    # -- controls
    def _strength_for(self, kind: str) -> None:
        label, lo, hi, step, default = STRENGTH[kind]
        with self.w_strength.hold_trait_notifications():
            self.w_strength.min, self.w_strength.max = lo, hi   # the old value may lie outside: widen first
            self.w_strength.step, self.w_strength.value = step, default
        self.strength_unit.value = f"{label}, {lo:g} to {hi:g}"

    def _kind_changed(self) -> None:
        with self.batch():           # the strength moves to the new kind's default: one redraw for both
            self._strength_for(self.w_kind.value)
            self.redraw()

    def _enable_mask_controls(self) -> None:
        """The mask dropdown only for masks, the box sliders only for a box mask."""
        self.w_mask.disabled = self.w_kind.value != "mask"
        for w in self.w_box:
            w.disabled = not (self.w_kind.value == "mask" and self.w_mask.value == "box")

    def operator(self) -> R.Operator:
        box = tuple(w.value for w in self.w_box)
        return make_operator(self.w_kind.value, self.w_strength.value, self.w_mask.value, box)

    def check(self) -> None:
        self._enable_mask_controls()
        self.operator()

    def set(self, digit: int | None = None, degradation: str | None = None, strength: float | None = None,
            mask: str | None = None, box: tuple[int, int, int, int] | None = None,
            steps: int | None = None) -> "RestorationLab":
        n = len(self.digits)
        with self.checking():
            if digit is not None and not in_range(digit, 0, n - 1, whole=True):
                raise CourseError(f"digit={digit!r} is out of range; choose a number from 0 to {n - 1}.")
            if steps is not None and not in_range(steps, *STEPS, whole=True):
                raise CourseError(f"steps={steps!r} must be a whole number from {STEPS[0]} to {STEPS[1]}.")
            kind = degradation if degradation is not None else self.w_kind.value
            if strength is not None:
                value = strength
            elif kind != self.w_kind.value and kind in STRENGTH:
                value = STRENGTH[kind][4]          # switching the degradation resets the strength to its default
            else:
                value = self.w_strength.value
            make_operator(kind, value, mask if mask is not None else self.w_mask.value,
                          box if box is not None else tuple(w.value for w in self.w_box))   # raises on a bad combination
        with self.batch():
            if degradation is not None:
                self.w_kind.value = degradation
            if strength is not None:
                self.w_strength.value = strength
            if mask is not None:
                self.w_mask.value = mask
            for w, v in zip(self.w_box, box or ()):
                w.value = v
            if digit is not None:
                self.w_digit.value = digit
            if steps is not None:
                self.w_steps.value = steps
        return self

    # -- drawing
    def _draw(self, *images01: torch.Tensor) -> None:
        tiles = torch.cat([im.detach().cpu().clamp(0, 1).reshape(1, 1, 28, 28) for im in images01])
        show_png(self.images, images_png(tiles, nrow=4, scale=5))

    def _measured(self):
        """(operator, original, measurement) for the current controls."""
        op = self.operator()
        x = self.digits[self.w_digit.value: self.w_digit.value + 1]
        return op, x, op(x)

    def render(self) -> None:
        """The original and its measurement; press Restore for the rest."""
        op, x, y = self._measured()
        blank = torch.full_like(x, 0.5)
        self._draw(x, y, blank, blank)
        self.status.value = f"{op.describe()} · press <b>Restore</b> to search for z."

    def baseline(self, op: R.Operator, y: torch.Tensor) -> torch.Tensor:
        kind = self.w_kind.value
        if kind == "noise":
            return R.baseline_denoise(y, method="median")
        if kind == "blur":
            return R.baseline_deblur(y, next(iter(op)), noise_sigma=0.02)
        return R.baseline_inpaint(y, op, method="biharmonic")

    def run(self) -> dict | None:
        """Restore the chosen digit with the current settings; returns PSNR/SSIM of both methods (None, with
        the reason in the error line, when the settings are bad)."""
        if not self.ready():
            return None
        op, x, y = self._measured()
        base = self.baseline(op, y)

        def show(step: int, x01: torch.Tensor, loss: float) -> None:
            self._draw(x, y, x01[:1], base)
            self.status.value = f"{op.describe()} · step {step} of {self.w_steps.value}: data loss {loss:.4f}"

        out = self.restore(y, op, steps=self.w_steps.value, callback=show, every=self.every)
        scores = {"restored": (float(R.psnr(out, x)[0]), float(R.ssim(out, x)[0])),
                  "baseline": (float(R.psnr(base, x)[0]), float(R.ssim(base, x)[0]))}
        self._draw(x, y, out, base)
        self.status.value = ("done: " + " · ".join(f"{k} PSNR {p:.1f} dB, SSIM {s:.2f}" for k, (p, s) in scores.items()))
        return scores


def restoration_lab(digits01: torch.Tensor, restore: RestoreFn, **kwargs) -> RestorationLab:
    """A :class:`RestorationLab` over held-out ``digits01`` using the notebook's ``restore`` function."""
    return RestorationLab(digits01, restore, **kwargs)
