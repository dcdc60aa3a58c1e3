"""Save and load trained generators: ``data/checkpoints/<name>.pt`` (``GAN_COURSE_CHECKPOINTS`` overrides).

A checkpoint is a plain dict of tensors, strings and numbers, so it loads with
``torch.load(..., weights_only=True)``: loading never runs code from the file.
"""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import torch

from . import config
from .config import CourseError
from .models import Generator, build_generator

FORMAT = 1

# Which notebook produces each checkpoint, for the error message when one is missing.
# In the order of the series: notebook 06's scoreboard lists them so.
PRODUCERS = {
    "vanilla_gan": "notebooks/01_vanilla_gan.ipynb",
    "loss_saturating": "notebooks/02_loss_saturation.ipynb",      # each loss after the comparison's steps
    "loss_non_saturating": "notebooks/02_loss_saturation.ipynb",
    "loss_least_squares": "notebooks/02_loss_saturation.ipynb",
    "loss_hinge": "notebooks/02_loss_saturation.ipynb",
    "loss_wgan_gp": "notebooks/02_loss_saturation.ipynb",
    "loss_best": "notebooks/02_loss_saturation.ipynb",            # the best of them, trained longer
    "dcgan": "notebooks/03_dcgan.ipynb",                          # the main run: z ~ N(0, I), a plain D
    "dcgan_clusters": "notebooks/03_dcgan.ipynb",                 # one prior bump per k-means cluster, a projection D
    "cgan": "notebooks/04_conditional_gan.ipynb",
}

# What each checkpoint is, in a few words: the label of its row and of its marks in notebook 06's scoreboard.
LABELS = {
    "vanilla_gan": "MLP GAN",
    "loss_saturating": "MLP GAN, saturating loss",
    "loss_non_saturating": "MLP GAN, non-saturating loss",
    "loss_least_squares": "MLP GAN, least-squares loss",
    "loss_hinge": "MLP GAN, hinge loss",
    "loss_wgan_gp": "MLP GAN, WGAN-GP",
    "loss_best": "MLP GAN, best loss, trained longer",
    "dcgan": "DCGAN",
    "dcgan_clusters": "DCGAN, cluster prior",
    "cgan": "conditional DCGAN",
}


def checkpoint_path(name: str) -> Path:
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise CourseError(f"{name!r} is not a checkpoint name; use a plain name such as 'vanilla_gan'.")
    return config.checkpoint_dir() / f"{name}.pt"


def _producer(name: str) -> str:
    nb = PRODUCERS.get(name)
    return f"run {nb} (or `make reports`)" if nb else "run the notebook that trains it"


def _plain(value):
    """Metadata as plain numbers, strings, lists and dicts, so the file loads with weights_only=True."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return str(value)


def save_generator(name: str, G: Generator, **meta) -> Path:
    """Save ``G``'s weights with its kind and config plus metadata (mode, steps, seed, data, ...).

    Written to a temporary file first and renamed, so an interrupted save never leaves a corrupt file.
    """
    path = checkpoint_path(name)
    record = {
        "format": FORMAT,
        "name": name,
        "kind": G.kind,
        "config": G.config,
        "state_dict": {k: v.detach().cpu() for k, v in G.state_dict().items()},
        "meta": {
            "mode": config.mode(),
            "saved_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "torch": str(torch.__version__),
            "python": platform.python_version(),
            **{k: _plain(v) for k, v in meta.items()},
        },
    }
    tmp = path.with_suffix(".pt.tmp")
    torch.save(record, tmp)
    os.replace(tmp, path)
    return path


def read_checkpoint(name: str) -> dict:
    """The checkpoint's dict, or a :class:`CourseError` naming the file and how to produce it."""
    path = checkpoint_path(name)
    if not path.exists():
        raise CourseError(f"No checkpoint {name!r} at {path}: {_producer(name)} to train it.")
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises several types for truncated or foreign files
        raise CourseError(f"Checkpoint {path} is corrupt or not a course checkpoint: delete it and {_producer(name)}.") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or "state_dict" not in record:
        raise CourseError(f"Checkpoint {path} has an unknown format: delete it and {_producer(name)}.")
    return record


def load_generator(name: str, device: str | torch.device | None = None) -> Generator:
    """A trained generator in eval mode; ``G.sample(n, labels=None, seed=None)`` gives images in [0, 1].

    ``G.meta`` holds the checkpoint's metadata (mode, steps, seed, data source, wall time, versions).
    """
    record = read_checkpoint(name)
    path = checkpoint_path(name)
    try:
        G = build_generator(record["kind"], dict(record["config"]))
        G.load_state_dict(record["state_dict"])
    except (RuntimeError, TypeError, KeyError, CourseError):
        raise CourseError(
            f"Checkpoint {path} does not fit the current {record.get('kind')!r} model code: delete it and {_producer(name)}."
        ) from None
    G.meta = dict(record.get("meta", {}))
    return G.to(device or config.device()).eval()


def list_checkpoints() -> list[str]:
    return sorted(p.stem for p in config.checkpoint_dir().glob("*.pt"))
