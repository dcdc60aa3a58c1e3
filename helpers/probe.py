"""How fast this machine is, and how much work a step is.

:func:`speed_probe`: how many images per second this machine trains the course's DCGAN on.

Each notebook states its run time as measured on one machine, together with that machine's probe. Run
``helpers.speed_probe()`` (a few seconds) on yours: a notebook takes about its stated time multiplied by
``stated probe / your probe``. ``bench/bench_notebooks.py`` does this sum and warns when a notebook's
stated time is off by more than 1.5x on the machine the benchmark runs on.

The probe is notebook 03's training step as the notebook stood when the run times were stated (G and D at 32
filters, batch 64, Adam, one D step and one G step), written out here and kept fixed, so that probes taken
before and after a change to the notebook's recipe stay comparable. That includes the memory layout: until
2026-12-01 the course's bfloat16 discriminators computed in NCHW (their one-channel first weight hid them from
:func:`helpers.models.mixed_precision`'s switch to channels-last), and the probe's D still does. It is timed
over a few dozen steps after a warm-up, on :func:`helpers.device`, and leaves the random state of the caller
alone. It runs in the precision the course runs in (:func:`helpers.config.precision`: bfloat16 on a CPU with bfloat16 hardware, else float32), so the
scaling holds on machines with and without it; ``precision="fp32"`` gives the float32 figure that probes taken
before the course used bfloat16 (bench/results.md until 2026-11-30) are comparable with.

:func:`gflop`: the arithmetic of one call (a training step, say), which unlike a time is the same on every
machine.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

import torch
from torch import nn

from . import config
from .config import CourseError
from .models import DCGANDiscriminator, DCGANGenerator

BATCH = 64


def speed_probe(steps: int = 30, warmup: int = 5, device: torch.device | str | None = None,
                precision: str = "auto") -> float:
    """Images per second of notebook 03's DCGAN training step on this machine (``steps`` timed steps), in the
    course's precision (``precision="auto"``, see :func:`helpers.config.precision`) or in ``"fp32"`` / ``"bf16"``."""
    if not isinstance(steps, int) or not isinstance(warmup, int) or steps < 1 or warmup < 0:
        raise CourseError(f"steps must be a whole number >= 1 and warmup >= 0; got steps={steps!r}, warmup={warmup!r}.")
    dev = torch.device(device) if device is not None else config.device()
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []), _precision(precision):
        torch.manual_seed(0)
        G, D = DCGANGenerator(nz=100, ngf=32).to(dev), DCGANDiscriminator(ndf=32, extra_layers=1).to(dev)
        opt_G = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
        opt_D = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
        bce = nn.BCEWithLogitsLoss()
        real = torch.rand(BATCH, 1, 28, 28, device=dev) * 2 - 1
        ones, zeros = torch.ones(BATCH, device=dev), torch.zeros(BATCH, device=dev)   # D gives one logit per image

        def judge(x):   # D as it ran when the run times were stated: NCHW layers, even in bfloat16 (module docstring)
            with config.autocast(dev) or contextlib.nullcontext():
                return D.net(x).flatten().float()

        def step():
            fake = G(torch.randn(BATCH, 100, device=dev))
            loss_d = bce(judge(real), ones) + bce(judge(fake.detach()), zeros)
            opt_D.zero_grad()
            loss_d.backward()
            opt_D.step()
            loss_g = bce(judge(fake), ones)
            opt_G.zero_grad()
            loss_g.backward()
            opt_G.step()
            return loss_g

        for _ in range(warmup):
            step()
        _sync(dev)
        start = time.perf_counter()
        for _ in range(steps):
            last = step()
        float(last.detach())   # waits for the device
        seconds = time.perf_counter() - start
    return steps * BATCH / seconds


def _precision(value: str):
    """``auto`` follows GAN_COURSE_PRECISION (the course's setting); anything else overrides it."""
    return contextlib.nullcontext() if value == "auto" else config.using_precision(value)


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()


def scaled_seconds(stated_seconds: float, stated_probe: float, probe: float) -> float:
    """A run time stated on a machine whose probe was ``stated_probe``, scaled to a machine whose probe is ``probe``."""
    if min(stated_seconds, stated_probe, probe) <= 0:
        raise CourseError("Run times and probes must be positive numbers.")
    return stated_seconds * stated_probe / probe


def gflop(fn, *args, **kwargs) -> float:
    """Billions of floating-point operations of one call ``fn(*args, **kwargs)``, forward and backward, counted
    from each operator's shapes by ``torch.profiler`` (``with_flops``). Unlike ``torch.utils.flop_counter`` it
    also follows ``torch.autograd.grad`` inside ``fn``, e.g. a gradient penalty."""
    with _quiet_native_stderr(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU],
                                                         with_flops=True) as prof:
        fn(*args, **kwargs)
    return sum(event.flops for event in prof.key_averages()) / 1e9


@contextlib.contextmanager
def _quiet_native_stderr():
    """Silence what C++ code writes to the process's stderr (the profiler's start and stop lines, which a
    notebook would show); Python's own ``sys.stderr`` is untouched."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
