"""Training-loop plumbing: the notebook writes the step, this module runs it.

``train(step, data, steps=..., batch_size=..., G=G, fixed_z=fixed_z)`` calls ``step(real, labels)``
once per batch. The step does the learning (D on real and fake, then G) and returns its numbers:
``{"loss_d": ..., "loss_g": ..., "d_x": ..., "d_g_z1": ..., "d_g_z2": ...}`` (any other keys are
recorded too). Around it this module provides the progress bar, the history, the log line of
PyTorch's DCGAN example, the live dashboard (:mod:`helpers.display`),
divergence detection and a clean stop on Ctrl-C / kernel interrupt.

Live display is used when a person watches (:func:`helpers.display.live_frontend`); without a live
front end (nbconvert, nbval, plain Python) training prints a short log and shows the final dashboard once.
"""
from __future__ import annotations

import contextlib
import copy
import functools
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .config import CourseError
from .data import Split, batches, batches_per_epoch
from .display import LOG_KEYS, Dashboard, in_notebook, live_frontend
from .models import Generator

StepFn = Callable[[torch.Tensor, torch.Tensor], dict]

@dataclass
class History:
    """What one training run recorded: per-step numbers, snapshots of the fixed-noise grid, and why it stopped."""

    records: dict[str, list[float]] = field(default_factory=dict)
    snapshots: dict[int, torch.Tensor] = field(default_factory=dict)
    steps: int = 0
    batch_size: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    diverged: str | None = None
    log: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> np.ndarray:
        return np.asarray(self.records[key])

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def mean(self, key: str, last: int | None = None) -> float:
        v = self[key]
        return float(v[-last:].mean() if last else v.mean())

    @property
    def images_per_second(self) -> float:
        return self.batch_size * self.steps / max(self.seconds, 1e-9)

    def append(self, values: dict[str, float]) -> None:
        for k, v in values.items():
            self.records.setdefault(k, []).append(v)

    def extend(self, later: "History") -> "History":
        """Append a later run of the same training (e.g. a short run, then its continuation)."""
        for k, v in later.records.items():
            self.records.setdefault(k, []).extend(v)
        self.snapshots.update({self.steps + s: img for s, img in later.snapshots.items()})
        self.steps += later.steps
        self.seconds += later.seconds
        self.log += later.log
        self.interrupted = self.interrupted or later.interrupted
        self.diverged = self.diverged or later.diverged
        return self

    def summary(self) -> str:
        state = "interrupted" if self.interrupted else ("stopped: diverged" if self.diverged else "done")
        return f"{self.steps} steps in {self.seconds:.0f} s ({state})"


class EMA:
    """An exponential moving average of a model's weights: ``avg ← decay·avg + (1 - decay)·weights``.

    ``ema.model`` is a frozen copy in eval mode; call ``ema.update(model)`` after each optimizer step.
    Buffers (BatchNorm's running statistics) are copied, not averaged. With ``warmup=True`` the decay
    after ``t`` updates is ``min(decay, (1 + t) / (10 + t))``, so early averages forget the random
    initial weights quickly instead of keeping ``decay**t`` of them.
    """

    def __init__(self, model: torch.nn.Module, decay: float = 0.999, warmup: bool = False):
        if not 0.0 <= decay < 1.0:
            raise CourseError(f"decay={decay!r} must be in [0, 1); 0.999 averages over about the last 1000 steps.")
        self.decay, self.warmup, self.updates = decay, warmup, 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates)) if self.warmup else self.decay
        for avg, p in zip(self.model.parameters(), model.parameters()):
            if avg.stride() != p.stride():   # the model went channels-last (helpers.models.mixed_precision): follow it
                avg.data = avg.data.contiguous(memory_format=torch.channels_last if p.dim() == 4 else torch.contiguous_format)
            avg.lerp_(p.detach(), 1.0 - decay)
        for avg, b in zip(self.model.buffers(), model.buffers()):
            avg.copy_(b)


@contextlib.contextmanager
def frozen(model: torch.nn.Module):
    """Inside ``with frozen(D):`` the model's weights are constants: a forward pass records no gradient for them,
    so the backward pass of G's step skips work it would throw away (D's weight gradients: 3% to 6% of a DCGAN
    step here, bench/results.md "seventh round"). Gradients still flow through the model to its input. Each
    weight's ``requires_grad`` is restored on leaving, also when the block raises or is interrupted."""
    before = [(p, p.requires_grad) for p in model.parameters()]
    model.requires_grad_(False)
    try:
        yield model
    finally:
        for p, flag in before:
            p.requires_grad_(flag)


def log_line(epoch: int, epochs: int, batch: int, per_epoch: int, v: dict[str, float]) -> str:
    """``[epoch/N][batch/B] Loss_D Loss_G D(x) D(G(z)) before/after the D step`` (1-based)."""
    parts = [f"[{epoch}/{epochs}][{batch}/{per_epoch}]"]
    parts += [f"{name}: {v[k]:.4f}" for k, name in LOG_KEYS.items() if k in v]
    if "d_g_z1" in v:
        after = f" / {v['d_g_z2']:.4f}" if "d_g_z2" in v else ""
        parts.append(f"D(G(z)): {v['d_g_z1']:.4f}{after}")
    return "  ".join(parts)


def fixed_noise_sampler(G: Generator, fixed_z: torch.Tensor, fixed_labels: torch.Tensor | None = None) -> Callable[[], torch.Tensor]:
    """A function returning G's images in [0, 1] for the fixed noise (:meth:`helpers.models.Generator.images`)."""
    return functools.partial(G.images, fixed_z, fixed_labels)


def _nonfinite(values: dict[str, float]) -> str | None:
    for k, v in values.items():
        if not math.isfinite(v):
            return k
    return None


def train(step: StepFn, data: Split, *, steps: int, batch_size: int = 64, G: Generator | None = None,
          fixed_z: torch.Tensor | None = None, fixed_labels: torch.Tensor | None = None,
          generator: torch.Generator | None = None, title: str = "", log_lines: int = 12,
          refresh_seconds: float = 2.0, snapshot_steps=(), on_divergence: str = "stop",
          d_wins_threshold: float = 0.01, d_wins_patience: int | None = None,
          live: bool | None = None, dashboard: bool = True, quiet: bool = False) -> History:
    """Run ``step(real, labels)`` for ``steps`` batches of ``batch_size`` training images.

    * ``G`` and ``fixed_z`` (and ``fixed_labels`` for conditional models) feed the fixed-noise grid;
      ``snapshot_steps`` lists steps at which that grid is kept in ``history.snapshots`` (the last
      step is always kept).
    * ``generator`` seeds the batch order. ``log_lines``: about that many log lines in all.
    * Divergence: a NaN/inf number always stops the run; D winning outright (``Loss_D`` below
      ``d_wins_threshold`` for ``d_wins_patience`` steps, default a tenth of the run) stops it when
      ``on_divergence="stop"`` and is only reported when ``"warn"``. Either way ``history.diverged``
      says what happened and what to try.
    * Ctrl-C / kernel interrupt ends training cleanly: models keep what they learned, the history
      holds the steps done, ``history.interrupted`` is True.
    """
    if not isinstance(steps, int) or steps < 1:
        raise CourseError(f"steps must be a positive whole number; got {steps!r}.")
    if on_divergence not in ("stop", "warn"):
        raise CourseError(f"on_divergence must be 'stop' or 'warn'; got {on_divergence!r}.")
    if (G is None) != (fixed_z is None):
        raise CourseError("Pass both G and fixed_z to see the fixed-noise grid, or neither.")
    live = live_frontend() if live is None else live
    per_epoch = batches_per_epoch(data, batch_size)
    epochs = -(-steps // per_epoch)
    log_every = max(1, steps // max(1, log_lines))
    patience = d_wins_patience or max(50, steps // 10)
    sampler = fixed_noise_sampler(G, fixed_z, fixed_labels) if G is not None else None
    board = Dashboard(title, sampler) if dashboard else None
    snapshot_steps = set(snapshot_steps)

    history = History(batch_size=batch_size)
    stream = batches(data, batch_size, generator)
    bar = None
    if not quiet and (live or not in_notebook() and sys.stderr.isatty()):
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=title or "training", leave=True, mininterval=0.5)
    d_wins_run, next_refresh, start = 0, 0.0, time.perf_counter()
    try:
        for i in range(1, steps + 1):
            epoch, b, real, labels = next(stream)
            out = step(real, labels)
            keys = list(out)
            values = dict(zip(keys, torch.stack([torch.as_tensor(out[k], dtype=torch.float32).detach().cpu()
                                                 for k in keys]).tolist()))
            history.append(values)
            history.steps = i
            if bar is not None:
                bar.update(1)
            bad = _nonfinite(values)
            if bad:
                history.diverged = (f"Training diverged at step {i}: {bad} became {values[bad]}; lower the learning rates "
                                    "(try half) or switch to the non-saturating loss, then run the cell again.")
                break
            d_wins_run = d_wins_run + 1 if values.get("loss_d", 1.0) < d_wins_threshold else 0
            if d_wins_run == patience and history.diverged is None:
                history.diverged = (f"From step {i - patience + 1} the discriminator wins outright (Loss_D < {d_wins_threshold} "
                                    f"for {patience} steps), so the generator learns nothing; try the non-saturating loss, "
                                    "a lower learning rate for D, or fewer D steps per G step.")
                if on_divergence == "stop":
                    break
            if i in snapshot_steps and sampler is not None:
                history.snapshots[i] = sampler()
            if i % log_every == 0 or i == 1:
                line = log_line(epoch + 1, epochs, b + 1, per_epoch, values)
                history.log.append(line)
                if live and board is not None:
                    board.show_log(history.log)
                elif not quiet:
                    (bar.write if bar is not None else print)(line)
            if live and board is not None and time.perf_counter() >= next_refresh:
                history.seconds = time.perf_counter() - start
                t0 = time.perf_counter()
                board.show(board.render(history))
                # Redraw every refresh_seconds, but never spend more than 5% of the time drawing.
                next_refresh = time.perf_counter() + max(refresh_seconds, 19 * (time.perf_counter() - t0))
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        history.seconds = time.perf_counter() - start
        if bar is not None:
            bar.close()
    if sampler is not None and history.steps:
        history.snapshots[history.steps] = sampler()
    if board is not None:
        if history.steps and in_notebook():  # the final state, shown once (the only view without a live front end)
            board.show(board.render(history))
        board.close()
    if history.interrupted:
        print(f"Interrupted after {history.steps} steps: the models keep what they learned; the history holds those steps.")
    if history.diverged:
        print(f"Warning: {history.diverged}")
    elif not quiet:
        print(f"{title + ': ' if title else ''}{history.summary()}, {history.images_per_second:.0f} images/s.")
    return history
