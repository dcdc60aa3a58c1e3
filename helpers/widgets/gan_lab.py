"""The GAN lab of notebook 00, in the spirit of GAN Lab: train a 2-D toy GAN and watch it.

Pick a target, a generator loss, D steps per G step and the learning rates, then play, pause, step or
reset. The picture is :func:`helpers.toy2d.plot_state` (the one notebook 00 draws) beside the loss curves.
"""
from __future__ import annotations

import asyncio
import threading
import time

import ipywidgets as W
from matplotlib.figure import Figure

from .. import losses
from ..config import CourseError
from ..display import live_frontend
from ..plots import figure_png, plot_curves
from ..config import one_thread
from ..toy2d import TARGETS, ToyGAN, check_settings, plot_state
from .base import CourseWidget, show_png, status_line


class GANLab(CourseWidget):
    """An interactive 2-D GAN. Programmatic use (also what a notebook run without a browser does):
    ``lab.run(steps)`` trains and draws the last state; ``lab.frame()`` is one frame of play.
    ``gan=`` a trained :class:`~helpers.toy2d.ToyGAN` continues it (reset starts again from its seed).

    A bad setting (say a learning rate of 0) is refused: the lab pauses and the error line says why.
    """

    GRID = 64  # heatmap resolution
    SHOW = 256  # fake and real points drawn
    ARROWS = 96  # arrows drawn

    def __init__(self, target: str = "ring of 8 Gaussians", loss: str = "non-saturating", d_steps: int = 1,
                 lr_d: float = 1e-3, lr_g: float = 1e-3, steps_per_frame: int = 10, seed: int = 0,
                 width: int = 880, gan: ToyGAN | None = None):
        super().__init__()
        if gan is None:
            gan = ToyGAN(target, loss, d_steps, lr_d, lr_g, seed=seed)
        elif isinstance(gan, ToyGAN):   # continue a toy GAN trained elsewhere: its settings fill the controls
            target, loss, d_steps, lr_d, lr_g, seed = gan.target.name, gan.loss.name, gan.d_steps, gan.lr_d, gan.lr_g, gan.seed
        else:
            raise CourseError(f"gan must be a helpers.toy2d.ToyGAN to continue, or None for a new one; got {type(gan).__name__}.")
        self.gan = gan
        self.seed = seed
        self.frame_seconds: list[float] = []
        self._playing = False
        self._last_status = ""   # the status line without "· playing" (render writes it)
        self._task = None
        self._lock = threading.Lock()
        self._axes = None
        self._scale_for = None  # the loss the colour bar was drawn for
        c = self.control
        self.target_picker = c(W.Dropdown, "target", "260px", options=list(TARGETS), value=target)
        self.loss_picker = c(W.Dropdown, "G loss", "240px", options=list(losses.LOSSES), value=loss)
        self.d_steps_slider = c(W.IntSlider, "D steps per G step", "300px", value=d_steps, min=1, max=10)
        self.lr_d_box = c(W.FloatText, "D learning rate", "190px", value=lr_d, step=1e-4)
        self.lr_g_box = c(W.FloatText, "G learning rate", "190px", value=lr_g, step=1e-4)
        self.speed_slider = c(W.IntSlider, "steps per frame", "300px", value=steps_per_frame, min=1, max=100)
        self.play_button = self.button("play", self.play, icon="play", button_style="success")
        self.pause_button = self.button("pause", self.pause, icon="pause")
        self.step_button = self.button("step", self.step, icon="step-forward")
        self.reset_button = self.button("reset", self.reset, icon="refresh", button_style="warning")
        self.status = status_line()
        self.image = W.Image(format="png", layout=W.Layout(width=f"{width}px"))
        self.on_change([self.target_picker, self.loss_picker, self.lr_d_box, self.lr_g_box, self.d_steps_slider])
        self.widget = W.VBox([
            W.HBox([self.target_picker, self.loss_picker, self.d_steps_slider]),
            W.HBox([self.lr_d_box, self.lr_g_box, self.speed_slider]),
            W.HBox([self.play_button, self.pause_button, self.step_button, self.reset_button, self.status],
                   layout=W.Layout(align_items="center")),
            self.message,
            self.image,
        ])
        self.render()

    # ------------------------------------------------------------------ settings
    def check(self) -> None:
        """Check the settings and apply them: a new target or loss starts again, the rest applies at once."""
        target, loss = self.target_picker.value, self.loss_picker.value
        if not target:
            raise CourseError(f"Pick a target distribution ({', '.join(TARGETS)}).")
        if not loss:
            raise CourseError(f"Pick a generator loss ({', '.join(losses.LOSSES)}).")
        check_settings(lr_d=self.lr_d_box.value, lr_g=self.lr_g_box.value, d_steps=self.d_steps_slider.value)
        with self._lock:
            if (target, loss) != (self.gan.target.name, self.gan.loss.name):
                self._rebuild()
            self.gan.set_lr(self.lr_d_box.value, self.lr_g_box.value)
            self.gan.d_steps = self.d_steps_slider.value

    def _rebuild(self) -> None:
        self.gan = ToyGAN(self.target_picker.value, self.loss_picker.value, self.d_steps_slider.value,
                          self.lr_d_box.value, self.lr_g_box.value, seed=self.seed)

    def fail(self, err: Exception | str, lead: str = "Not trained") -> None:
        self.pause()
        super().fail(err, lead)

    # ------------------------------------------------------------------ actions
    def step(self) -> None:
        """One training step (``D steps`` D updates and one G update), then redraw."""
        if self.ready():
            with self._lock:
                self.gan.step()
            self.render()

    def reset(self) -> None:
        """Pause, and start again from freshly initialised models (same seed)."""
        self.pause()
        if self.ready():
            with self._lock:
                self._rebuild()
        self.render()

    def run(self, steps: int, frames: int | None = None) -> "GANLab":
        """Train ``steps`` steps now. With a live front end, redraw every ``steps per frame`` steps
        (or ``frames`` times in all); otherwise draw once at the end."""
        with self.checking():
            if not isinstance(steps, int) or steps < 0:
                raise CourseError(f"steps must be a whole number >= 0; got {steps!r}.")
            self.check()
        self.clear_error()
        live = live_frontend()
        every = max(1, steps // frames) if frames else self.speed_slider.value
        done = 0
        while done < steps:
            n = min(every if live else steps - done, steps - done)
            with self._lock:
                self.gan.train(n)
            done += n
            if live:
                self.render()
        if not live:
            self.render()
        return self

    def frame(self) -> None:
        """``steps per frame`` steps, then redraw: what play does repeatedly."""
        start = time.perf_counter()
        with self._lock:
            self.gan.train(self.speed_slider.value)
        self.render()
        self.frame_seconds.append(time.perf_counter() - start)

    def play(self) -> None:
        """Train and redraw frame after frame until pause: a task in the kernel's event loop (clicks are
        handled between frames), or a thread running the same loop when no event loop runs."""
        if self._playing or not self.ready():
            return
        self._playing = True
        self.play_button.disabled = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._task = loop.create_task(self._play_loop())
        else:
            self._task = threading.Thread(target=asyncio.run, args=(self._play_loop(),), daemon=True)
            self._task.start()

    async def _play_loop(self) -> None:
        try:
            while self._playing:
                self.frame()
                await asyncio.sleep(0.02)  # let the kernel handle clicks (pause) between frames
        except Exception as err:  # noqa: BLE001 (show it in the widget rather than lose it in the event loop)
            self.fail(err, "Stopped")
        finally:
            self.pause()

    def pause(self) -> None:
        self._playing = False
        self.play_button.disabled = False
        self._show_status()   # the status line stops saying "playing" at once, not at the next redraw

    @property
    def playing(self) -> bool:
        return self._playing

    # ------------------------------------------------------------------ drawing
    def _make_axes(self):
        fig = Figure(figsize=(11, 4.6), dpi=80)
        field = fig.add_axes([0.03, 0.09, 0.343, 0.82])  # square: 0.343 x 11 in = 0.82 x 4.6 in
        cbar = fig.add_axes([0.38, 0.09, 0.012, 0.82])
        curves = fig.add_axes([0.55, 0.13, 0.43, 0.76])
        return fig, field, cbar, curves

    def render(self) -> bytes:
        """Draw the current state into the image widget; returns the PNG bytes."""
        with self._lock, one_thread():
            if self._axes is None:
                self._axes = self._make_axes()
            fig, field, cbar, curves = self._axes
            gan = self.gan
            cov = gan.coverage()
            new_scale = gan.loss.name != self._scale_for  # the colour bar depends on the loss only
            for ax in (field, curves, cbar) if new_scale else (field, curves):
                ax.clear()
            plot_state(field, gan, f"{gan.target.name} · {gan.loss.name} · step {gan.steps}\n{cov}", n=self.SHOW,
                       arrows=self.ARROWS, grid=self.GRID, colorbar=cbar if new_scale else False, legend=True)
            self._scale_for = gan.loss.name
            h = gan.history
            n = len(h.get("loss_d", []))
            plot_curves(curves, {"D loss": h.get("loss_d", []), "G loss": h.get("loss_g", [])}, max(1, n // 50),
                        ylabel="loss (moving average)")
            curves.set_xlim(0, max(10, n))
            ld, lg = (h[k][-1] if h.get(k) else float("nan") for k in ("loss_d", "loss_g"))
            curves.set_title(f"losses · last step: D {ld:.3f}, G {lg:.3f}", fontsize=10)
            png = figure_png(fig, dpi=80)
        show_png(self.image, png, natural_size=False)
        self._last_status = f"step {gan.steps} · {cov.covered}/{cov.regions} modes"
        self._show_status()
        return png

    def _show_status(self) -> None:
        playing = " · playing" if self._playing else ""
        self.status.value = f"<span style='font-family:monospace'>{self._last_status}{playing}</span>"

    def close(self) -> None:
        self.pause()
        super().close()


def gan_lab(**kwargs) -> GANLab:
    """A :class:`GANLab`; display it with ``display(lab)`` or as the last line of a cell."""
    return GANLab(**kwargs)
