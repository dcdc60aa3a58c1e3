"""Image grids and curves with matplotlib (no torchvision needed)."""
from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import torch


def image_grid(images01: torch.Tensor, nrow: int = 8, pad: int = 2, pad_value: float = 1.0) -> np.ndarray:
    """Tile ``(n, 1, 28, 28)`` images in [0, 1] into one 2-D array, ``nrow`` images per row."""
    x = images01.detach().float().cpu().clamp(0, 1)
    if x.dim() == 3:
        x = x.unsqueeze(1)
    n, _, h, w = x.shape
    ncol = min(nrow, n)
    rows = -(-n // ncol)
    grid = np.full((rows * (h + pad) + pad, ncol * (w + pad) + pad), pad_value, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncol)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = x[i, 0].numpy()
    return grid


def show_grid(images01: torch.Tensor, nrow: int = 8, title: str | None = None, ax=None, size: float = 4.0):
    """Show images in [0, 1] as one grid, white digits on black as in MNIST."""
    if ax is None:
        rows = -(-len(images01) // nrow)
        _, ax = plt.subplots(figsize=(size, size * rows / min(nrow, len(images01))))
    ax.imshow(image_grid(images01, nrow), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def show_grids(grids: dict[str, torch.Tensor], nrow: int = 8, size: float = 3.2, suptitle: str | None = None):
    """Several labelled grids side by side: ``show_grids({"short": a, "long": b})``."""
    fig, axes = plt.subplots(1, len(grids), figsize=(size * len(grids), size), squeeze=False)
    for ax, (title, imgs) in zip(axes[0], grids.items()):
        show_grid(imgs, nrow, title, ax)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def smooth(values, window: int) -> np.ndarray:
    """Moving average (valid part only) to read noisy loss curves."""
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(v) < window:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    return (c[window:] - c[:-window]) / window


def plot_curves(ax, curves: dict[str, list[float]], window: int = 1, xlabel: str = "step", ylabel: str | None = None):
    for name, values in curves.items():
        y = smooth(values, window)
        x = np.arange(len(values) - len(y) + 1, len(values) + 1)
        ax.plot(x, y, label=name, lw=1.2)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    return ax


def class_histogram(ax, hist: list[float], title: str | None = None):
    """Plot the share of samples per predicted digit (e.g. ``quality.class_hist`` or
    :func:`helpers.metrics.class_shares`) as bars on ``ax``, with the uniform 10% as a dashed line."""
    ax.bar(range(10), hist, color="tab:blue")
    ax.axhline(0.1, color="gray", ls="--", lw=1, label="uniform (10%)")
    ax.set_xticks(range(10))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("share of samples")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def figure_png(fig, dpi: int = 80) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
