"""What a person sees while the course runs: front-end detection, the live training dashboard, and the
one-sentence error display.

* :func:`in_notebook`: code runs in a Jupyter kernel (a ZMQ shell), whatever the front end.
* :func:`live_frontend`: a person is watching that kernel (JupyterLab, Notebook, VS Code, Colab), so
  training redraws its dashboard in place. ``GAN_COURSE_LIVE=1`` or ``0`` forces either way.
* :class:`Dashboard`: loss curves, D's outputs and the fixed-noise grid, redrawn through one display handle.
* :func:`short_errors`: a :class:`~helpers.config.CourseError` shows as its one sentence, no deep traceback.
"""
from __future__ import annotations

import os
import sys
from typing import Callable

import torch
from matplotlib.figure import Figure

from . import plots
from .config import CourseError

LOG_KEYS = {"loss_d": "Loss_D", "loss_g": "Loss_G", "d_x": "D(x)"}


# Environment variables a front end sets in the kernels it starts: jupyter_server (JupyterLab, Notebook 7)
# names the notebook in JPY_SESSION_NAME; VS Code's Jupyter extension runs the kernel under VSCODE_PID;
# Colab's runtime sets COLAB_RELEASE_TAG.
FRONTEND_VARIABLES = ("JPY_SESSION_NAME", "VSCODE_PID", "COLAB_RELEASE_TAG")


def ipython_shell():
    """The running IPython shell, or None (plain Python, or IPython not installed)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def in_notebook() -> bool:
    """True in a Jupyter kernel: IPython's shell is ipykernel's ``ZMQInteractiveShell`` or a subclass of it
    (Colab's shell is one)."""
    shell = ipython_shell()
    return shell is not None and any(c.__name__ == "ZMQInteractiveShell" for c in type(shell).__mro__)


def live_frontend() -> bool:
    """True when a person is watching: a kernel started by JupyterLab, Notebook 7, VS Code or Colab, not
    by nbconvert/nbval. ``GAN_COURSE_LIVE=1`` or ``0`` overrides."""
    forced = os.environ.get("GAN_COURSE_LIVE", "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    return in_notebook() and (any(k in os.environ for k in FRONTEND_VARIABLES) or "google.colab" in sys.modules)


class Dashboard:
    """Loss curves, D's outputs and the fixed-noise grid in one figure, redrawn in place.

    ``render()`` draws into the same figure every time and returns PNG bytes; in a live front end the
    bytes replace the previous image through one display handle (no flicker, no growing output).
    """

    def __init__(self, title: str, sampler: Callable[[], torch.Tensor] | None, nrow: int = 8):
        self.title, self.sampler, self.nrow = title, sampler, nrow
        # A Figure outside pyplot: the notebook never shows it by itself (only as the PNG below), and
        # pyplot's state (interactive mode, the inline backend's hooks) is left alone, so the cell's own
        # figures still appear.
        self.fig = Figure(figsize=(13 if sampler else 9, 3.6))
        axes = self.fig.subplots(1, 3 if sampler else 2,
                                 gridspec_kw={"width_ratios": [1.2, 1.2, 1] if sampler else [1, 1]})
        self.ax_loss, self.ax_prob = axes[0], axes[1]
        self.ax_img = axes[2] if sampler else None
        self.handle = None
        self.log_handle = None
        self.laid_out = False

    def render(self, history, last_log: list[str] | None = None) -> bytes:
        n = history.steps
        window = max(1, n // 60)
        for ax in (self.ax_loss, self.ax_prob):
            ax.clear()
        plots.plot_curves(self.ax_loss, {LOG_KEYS[k]: history.records[k] for k in ("loss_d", "loss_g") if k in history},
                          window, ylabel="loss")
        probs = {label: history.records[k] for k, label in (("d_x", "D(x)"), ("d_g_z1", "D(G(z))")) if k in history}
        if probs:
            plots.plot_curves(self.ax_prob, probs, window, ylabel="D's probability 'real'")
            self.ax_prob.set_ylim(-0.02, 1.02)
            self.ax_prob.axhline(0.5, color="gray", ls=":", lw=1)
        self.ax_loss.set_title(f"{self.title}: step {n}" if self.title else f"step {n}", fontsize=10)
        if self.ax_img is not None:
            self.ax_img.clear()
            plots.show_grid(self.sampler(), self.nrow, "fixed noise", self.ax_img)
        if not self.laid_out:  # the layout is fixed after the first draw; recomputing it is slow
            self.fig.tight_layout()
            self.laid_out = True
        return plots.figure_png(self.fig)

    def show(self, png: bytes) -> None:
        if not in_notebook():  # plain Python (e.g. the benchmark): the figure is drawn, nobody shows it
            return
        from IPython.display import Image, display

        if self.handle is None:
            self.handle = display(Image(data=png), display_id=True)
        else:
            self.handle.update(Image(data=png))

    def show_log(self, lines: list[str]) -> None:
        if not in_notebook():
            return
        from IPython.display import HTML, display

        html = HTML("<pre style='font-size:11px;margin:0'>" + "\n".join(lines[-6:]) + "</pre>")
        if self.log_handle is None:
            self.log_handle = display(html, display_id=True)
        else:
            self.log_handle.update(html)

    def close(self) -> None:
        self.fig.clear()


def short_errors() -> None:
    """In IPython, show a :class:`CourseError` as its one sentence, without a deep traceback.

    Each notebook calls this once, in its first cell; importing :mod:`helpers` changes nothing."""
    shell = ipython_shell()
    if shell is None:
        return

    def _handler(self, etype, value, tb, tb_offset=None):
        self._showtraceback(etype, value, [f"\x1b[31m{etype.__name__}\x1b[0m: {value}"])

    shell.set_custom_exc((CourseError,), _handler)
