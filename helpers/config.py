"""Run mode, device, seeds and paths: the one place the course reads its settings.

Environment variables (all optional):

* ``GAN_COURSE_MODE``: ``quick`` (tests), ``standard`` (default: reports and JupyterLab) or ``full``
  (long GPU runs). Every notebook scales its steps and sample counts with :func:`pick`.
* ``GAN_COURSE_DEVICE``: ``cpu``, ``cuda``, ``cuda:1``, ``mps``; default: the best one available.
* ``GAN_COURSE_DATA``: where datasets and the quality meter's classifier live (default ``<repo>/data``).
* ``GAN_COURSE_CHECKPOINTS``: where trained generators are saved (default ``<data>/checkpoints``).
* ``GAN_COURSE_SEED``: a whole number added to every seed given to :func:`seed_everything` (default 0), to
  see how much a result moves from one run to another (``bench/seed_spread.py`` runs the notebooks with 0, 1, 2).
* ``GAN_COURSE_PRECISION``: ``auto`` (default), ``fp32`` or ``bf16``: the number format of the generators' and
  discriminators' matrix products and convolutions (see :func:`precision`).
"""
from __future__ import annotations

import contextlib
import functools
import os
import random
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

MODES = ("quick", "standard", "full")
PRECISIONS = ("auto", "fp32", "bf16")
T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent


class CourseError(RuntimeError):
    """A problem the user can fix; the message is one sentence saying how.

    Notebooks show it without a deep traceback (see :func:`helpers.short_errors`, which each notebook calls).
    """


def mode() -> str:
    """The run mode, read from ``GAN_COURSE_MODE`` (default ``standard``)."""
    value = os.environ.get("GAN_COURSE_MODE", "standard").strip().lower() or "standard"
    if value not in MODES:
        raise CourseError(
            f"GAN_COURSE_MODE={value!r} is not a run mode; set it to one of {', '.join(MODES)}."
        )
    return value


def pick(quick: T, standard: T, full: T | None = None) -> T:
    """Choose a setting by run mode: ``steps = pick(quick=200, standard=6000, full=60000)``."""
    m = mode()
    if m == "quick":
        return quick
    if m == "full" and full is not None:
        return full
    return standard


def device() -> torch.device:
    """The compute device: ``GAN_COURSE_DEVICE`` if set, else CUDA, then MPS, then CPU."""
    wanted = os.environ.get("GAN_COURSE_DEVICE", "").strip()
    if wanted:
        try:
            dev = torch.device(wanted)
            torch.empty(1, device=dev)
        except (RuntimeError, AssertionError) as err:
            raise CourseError(
                f"GAN_COURSE_DEVICE={wanted!r} is not usable here ({err}); unset it to pick a device automatically."
            ) from None
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def run_seed() -> int:
    """``GAN_COURSE_SEED``: the offset :func:`seed_everything` adds to every seed (default 0)."""
    value = os.environ.get("GAN_COURSE_SEED", "0").strip() or "0"
    if not value.isdigit():
        raise CourseError(f"GAN_COURSE_SEED={value!r} is not a whole number >= 0; unset it or set e.g. GAN_COURSE_SEED=1.")
    return int(value)


def seed_everything(seed: int = 0, *, vary: bool = True) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (all devices) and return a CPU generator seeded the same.

    With the same seed, a CPU run repeats exactly (tests/test_training.py checks the loss history). With
    ``vary`` (the default) the seed used is ``seed + GAN_COURSE_SEED``, so one variable gives every notebook
    other initial weights and noise; the quality meter's classifier passes ``vary=False``.
    """
    if vary:
        seed += run_seed()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@functools.lru_cache(maxsize=None)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX), as oneDNN reports it."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


_PRECISION_OVERRIDE: list[str] = []


def precision(dev: torch.device | str | None = None) -> str:
    """The number format, ``"bf16"`` or ``"fp32"``, of the course models' products on device ``dev`` (default: :func:`device`).

    ``GAN_COURSE_PRECISION=auto`` (the default) picks bfloat16 only on a CPU that multiplies it in hardware (recent
    AMD EPYC and Ryzen, Intel Xeon with AMX), where a training step took 0.6 to 0.7 times as long in one recorded run
    (bench/results.md, "recipes, bfloat16"); everywhere else, GPUs included, float32. Weights, optimizer states,
    losses and outputs stay float32 in both (mixed precision, ``torch.autocast``). ``fp32`` turns it off; ``bf16``
    forces it (slow on a CPU without bfloat16 hardware).
    """
    value = (_PRECISION_OVERRIDE[-1] if _PRECISION_OVERRIDE else
             os.environ.get("GAN_COURSE_PRECISION", "auto").strip().lower() or "auto")
    if value not in PRECISIONS:
        raise CourseError(f"GAN_COURSE_PRECISION={value!r} is not a precision; set it to one of {', '.join(PRECISIONS)}.")
    if value != "auto":
        return value
    dev = torch.device(dev) if dev is not None else device()
    return "bf16" if dev.type == "cpu" and cpu_has_native_bf16() else "fp32"


@contextlib.contextmanager
def using_precision(value: str):
    """Run the ``with`` block at precision ``value`` (``auto``, ``fp32`` or ``bf16``) whatever the environment says."""
    if value not in PRECISIONS:
        raise CourseError(f"precision {value!r} is not one of {', '.join(PRECISIONS)}.")
    _PRECISION_OVERRIDE.append(value)
    try:
        yield
    finally:
        _PRECISION_OVERRIDE.pop()


def autocast(dev: torch.device) -> torch.autocast | None:
    """``torch.autocast`` to bfloat16 on ``dev`` when :func:`precision` says so, else None (float32: nothing to do).
    The course's models run every forward pass inside it (:func:`helpers.models.mixed_precision`)."""
    if precision(dev) == "bf16":
        return torch.autocast(dev.type, dtype=torch.bfloat16)
    return None


def data_dir() -> Path:
    path = Path(os.environ.get("GAN_COURSE_DATA", ROOT / "data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def checkpoint_dir() -> Path:
    path = Path(os.environ.get("GAN_COURSE_CHECKPOINTS", data_dir() / "checkpoints"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def one_thread():
    """Run tiny models on one CPU thread: for a few thousand weights, more threads only add overhead
    (and fight with anything else running on the machine)."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
