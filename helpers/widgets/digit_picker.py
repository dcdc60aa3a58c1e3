"""The digit picker of notebook 04: a chosen digit from a conditional generator, for a chosen noise seed."""
from __future__ import annotations

import ipywidgets as W

from ..config import CourseError
from .base import CourseWidget, images_png, in_range, show_png, status_line


class DigitPicker(CourseWidget):
    """A digit dropdown, a noise-seed slider and a grid of samples.

    ``picker.set(digit=8, seed=3)`` does the same from code; a bad value is refused with one sentence."""

    SEEDS = 99  # the slider's last seed

    def __init__(self, G, digit: int = 8, seed: int = 0, count: int = 16):
        super().__init__()
        if not getattr(G, "num_classes", 0):
            raise CourseError("The digit picker needs a conditional generator (one trained with labels, e.g. 'cgan').")
        self.G, self.count = G, count
        with self.checking():
            self._check_values(digit, seed)
        self.w_digit = self.control(W.Dropdown, "digit", "150px", options=list(range(G.num_classes)), value=digit)
        self.w_seed = self.control(W.IntSlider, "noise seed", value=seed, min=0, max=self.SEEDS)
        self.image = W.Image(format="png")
        self.status = status_line()
        self.on_change([self.w_digit, self.w_seed])
        self.widget = W.VBox([W.HBox([self.w_digit, self.w_seed]), self.message, self.image, self.status])
        self.redraw()

    def _check_values(self, digit, seed) -> None:
        last = self.G.num_classes - 1
        if digit is not None and not in_range(digit, 0, last, whole=True):
            raise CourseError(f"digit={digit!r} is not a digit this generator knows; choose 0 to {last}.")
        if seed is not None and not in_range(seed, 0, self.SEEDS, whole=True):
            raise CourseError(f"seed={seed!r} must be a whole number from 0 to {self.SEEDS}.")

    def render(self) -> None:
        x = self.G.sample(self.count, labels=self.w_digit.value, seed=self.w_seed.value)
        show_png(self.image, images_png(x, nrow=8, scale=3))
        self.status.value = f"{self.count} samples of the digit {self.w_digit.value}, noise seed {self.w_seed.value}"

    def set(self, digit: int | None = None, seed: int | None = None) -> "DigitPicker":
        with self.checking():
            self._check_values(digit, seed)
        with self.batch():
            if digit is not None:
                self.w_digit.value = digit
            if seed is not None:
                self.w_seed.value = seed
        return self


def digit_picker(G, **kwargs) -> DigitPicker:
    """A :class:`DigitPicker` for a conditional generator ``G``; display it as the last line of a cell."""
    return DigitPicker(G, **kwargs)
