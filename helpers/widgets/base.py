"""What every course widget shares: labelled controls, one line for errors, pictures redrawn in place.

A widget subclasses :class:`CourseWidget`, builds its controls with :meth:`~CourseWidget.control` and
:meth:`~CourseWidget.button`, and defines two methods:

* ``check()`` raises a :class:`~helpers.config.CourseError` (one sentence) when the controls hold values it
  cannot use;
* ``render()`` draws the current state into its image widgets (:func:`show_png`).

Any control change calls :meth:`~CourseWidget.redraw`: check, then draw, or show the sentence in the error
line (``message``, CSS class ``course-error``; empty when all is well). Values set from code go through
:meth:`~CourseWidget.checking`, which shows the sentence in the widget too and raises it in the cell.
Everything on screen is ipywidgets state (PNG bytes included), so a saved notebook or an HTML export keeps
the last picture and message.
"""
from __future__ import annotations

import contextlib
import html
import io
from typing import Callable, Iterable

import ipywidgets as W
import numpy as np
import torch

from ..config import CourseError
from ..plots import image_grid

ERROR_CLASS = "course-error"    # the error line of every widget
STATUS_CLASS = "course-status"  # a widget's status line (progress, step counter, caption)


def images_png(images01: torch.Tensor, nrow: int, scale: int) -> bytes:
    """Images in [0, 1] tiled ``nrow`` per row on a grey grid, enlarged ``scale`` times, as PNG bytes."""
    from PIL import Image

    grid = image_grid(images01, nrow=nrow, pad=2, pad_value=0.35)
    img = Image.fromarray((grid * 255).round().astype(np.uint8))
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def show_png(image: W.Image, png: bytes, natural_size: bool = True) -> None:
    """Redraw an Image widget in place; ``natural_size`` pins its width to the picture's (a box would
    otherwise stretch it)."""
    image.value = png
    if natural_size:
        image.layout.width = f"{int.from_bytes(png[16:20], 'big')}px"  # PNG header: width


def in_range(value, lo: float, hi: float, whole: bool = False) -> bool:
    """``value`` is a number (a whole one if ``whole``; never a bool) from ``lo`` to ``hi``, both included."""
    kinds = int if whole else (int, float)
    return isinstance(value, kinds) and not isinstance(value, bool) and lo <= value <= hi


def status_line() -> W.HTML:
    return W.HTML().add_class(STATUS_CLASS)


class CourseWidget:
    """Base of the course's widgets: ``widget`` (the box a cell displays), ``message`` (the error line) and
    ``error`` (its text, ``None`` when the values are fine)."""

    def __init__(self) -> None:
        self.message = W.HTML().add_class(ERROR_CLASS)
        self.error: str | None = None
        self.widget: W.Box | None = None
        self._held = 0
        self._stale = False

    # ------------------------------------------------------------------ what a widget defines
    def check(self) -> None:
        """Raise a CourseError naming what is wrong with the controls' values (default: nothing can be)."""

    def render(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ controls
    @staticmethod
    def control(kind: type[W.ValueWidget], description: str, width: str | None = None, **kwargs) -> W.ValueWidget:
        """A control labelled ``description``, shown in full (people, and browser tests, find it by this text)."""
        style = {"description_width": "initial", **kwargs.pop("style", {})}
        layout = W.Layout(width=width) if width else W.Layout()
        return kind(description=description, style=style, layout=layout, **kwargs)

    def button(self, description: str, action: Callable[[], object], width: str = "90px", **kwargs) -> W.Button:
        """A button showing ``description`` that runs ``action``; an error appears in the error line."""
        b = W.Button(description=description, layout=W.Layout(width=width), **kwargs)
        b.on_click(lambda _button: self.guarded(action))
        return b

    def on_change(self, controls: Iterable[W.ValueWidget], action: Callable[[], object] | None = None) -> None:
        """Run ``action`` (default: :meth:`redraw`) whenever one of ``controls`` changes value."""
        for c in controls:
            c.observe(lambda _change: self.guarded(action or self.redraw), names="value")

    # ------------------------------------------------------------------ errors
    def fail(self, err: Exception | str, lead: str = "") -> None:
        """Show one sentence in the error line (a CourseError's own; for anything else, its type too)."""
        text = str(err) if isinstance(err, (str, CourseError)) else f"{type(err).__name__}: {err}"
        self.error = text
        head = f"<b>{html.escape(lead)}:</b> " if lead else ""
        self.message.value = f"<span style='color:#b00020'>{head}{html.escape(text, quote=False)}</span>"

    def clear_error(self) -> None:
        self.error = None
        self.message.value = ""

    def guarded(self, action: Callable[[], object]) -> None:
        """Run a callback from the page: an exception shows in the error line instead of the kernel's log."""
        try:
            action()
        except Exception as err:  # noqa: BLE001 (a front-end callback has nowhere else to report)
            self.fail(err)

    @contextlib.contextmanager
    def checking(self):
        """For values set from code: a CourseError is shown in the widget, then raised in the cell."""
        try:
            yield
        except CourseError as err:
            self.fail(err)
            raise

    def ready(self) -> bool:
        """Check the controls' values: True (error line cleared) when the widget can use them, else the
        sentence is shown and False returned."""
        try:
            self.check()
        except CourseError as err:
            self.fail(err)
            return False
        self.clear_error()
        return True

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        """Check the values and draw, or show what is wrong; inside :meth:`batch`, once at its end."""
        if self._held:
            self._stale = True
        elif self.ready():
            self.render()

    @contextlib.contextmanager
    def batch(self):
        """Change several controls, redraw once."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
        if not self._held and self._stale:
            self._stale = False
            self.redraw()

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        self.widget.close()
