"""Evaluation metrics for notebook 06, all on the course's MNIST classifier (no downloads).

Every function takes images in [0, 1] of shape ``(n, 1, 28, 28)`` (CPU or device tensors). The
classifier runs once per image set (:func:`embed` gives its 64-d features and its class logits in one
pass); the metrics then work on those numbers:

* ``frechet_distance`` (FD): the Fréchet distance between the 64-d features (torchmetrics, float64);
* ``kid``: kernel distance, the unbiased MMD² with the kernel ``(x·y/64 + 1)³`` averaged over random
  subsets (torchmetrics), returned as (mean, std over subsets);
* ``inception_score``: ``exp E[KL(p(y|x) || p(y))]`` with the classifier's 10 class probabilities
  (torchmetrics), returned as (mean, std over splits); 10 is the best possible score;
* ``precision_recall_from``: k-NN manifolds (Kynkäänniemi et al. 2019): the share of samples inside the real
  digits' k-NN balls, and the share of real digits inside the samples' balls;
* ``density_coverage_from`` (Naeem et al. 2020): how many real k-NN balls hold a sample on average (divided
  by k; about 1 for real digits), and the share of real balls that hold at least one sample;
* ``nearest_neighbours`` and ``memorization``: pixel distances to the training digits, to spot copies.

torchmetrics receives the classifier's outputs through :class:`Precomputed`, an identity "feature
module", so the classifier is not run once per metric. The ``*_from`` functions take those numbers
(features, logits), the others take images. All numbers depend on the sample size N: compare them at
equal N only (:func:`evaluate` reports N).
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .config import CourseError
from .data import check_images
from .digit_classifier import CHUNK, FEATURES, Classifier, FeatureExtractor, classifier

MIN_FD = 2 * FEATURES  # as in the quality meter: below that the feature covariance is unreliable


class Precomputed(nn.Module):
    """An identity feature module: torchmetrics calls it on features or logits we computed already."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features  # read by FrechetInceptionDistance

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1).double()


@dataclass
class Embedding:
    features: torch.Tensor  # (n, 64) float32 on the CPU: the classifier's penultimate layer
    logits: torch.Tensor    # (n, 10) float32 on the CPU: the classifier's class logits

    def __len__(self) -> int:
        return len(self.features)


@torch.no_grad()
def embed(x01: torch.Tensor, clf: Classifier | None = None, chunk: int = CHUNK) -> Embedding:
    """The classifier's features and logits for images in [0, 1], in one pass, ``chunk`` images at a time."""
    x01 = check_images(x01).float()
    clf = clf or classifier()
    extract, dev = FeatureExtractor(clf), next(clf.parameters()).device
    feats = [extract(x01[i:i + chunk]) for i in range(0, len(x01), chunk)]
    logits = [clf.head(f.to(dev)).float().cpu() for f in feats]
    return Embedding(torch.cat(feats), torch.cat(logits))


def features(x01: torch.Tensor, clf: Classifier | None = None) -> torch.Tensor:
    """The classifier's 64-d features ``(n, 64)`` (float32, CPU)."""
    return embed(x01, clf).features


def _quiet(metric_class, **kwargs):
    with warnings.catch_warnings():  # "will save all extracted features in buffer": we know
        warnings.simplefilter("ignore", UserWarning)
        return metric_class(**kwargs)


def _compute_seeded(metric, seed: int) -> tuple[float, float]:
    """torchmetrics draws its subsets and splits with the global RNG: seed it, leave the caller's RNG alone.

    It runs on one CPU thread: KID is hundreds of operations on 200x200 matrices, too small to share,
    and on a busy CPU two threads that wait for each other made it a hundred times slower."""
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # std of a single split: NaN, said in the docstring
            torch.manual_seed(seed)
            mean, std = metric.compute()
    finally:
        torch.set_num_threads(threads)
    return float(mean), float(std)


# --- metrics on given numbers (the classifier has already run) ---------------------------------------

def frechet_distance_from(fx: torch.Tensor, fr: torch.Tensor) -> float:
    from torchmetrics.image.fid import FrechetInceptionDistance  # torchmetrics' name; any features work

    n, m = len(fx), len(fr)
    if min(n, m) < MIN_FD:
        raise CourseError(f"The Fréchet distance needs at least {MIN_FD} images per set (got {n} and {m}).")
    metric = FrechetInceptionDistance(feature=Precomputed(fx.shape[1]))
    metric.update(fr, real=True)
    metric.update(fx, real=False)
    return max(0.0, float(metric.compute()))  # float64 round-off can give -1e-9 for identical sets


def kid_from(fx: torch.Tensor, fr: torch.Tensor, subset_size: int = 200, subsets: int = 100,
             seed: int = 0) -> tuple[float, float]:
    from torchmetrics.image.kid import KernelInceptionDistance

    n, m = len(fx), len(fr)
    if not 2 <= subset_size <= min(n, m):
        raise CourseError(f"KID subset_size={subset_size} must be between 2 and the smaller sample size ({min(n, m)}).")
    metric = _quiet(KernelInceptionDistance, feature=Precomputed(fx.shape[1]), subsets=subsets, subset_size=subset_size)
    metric.update(fr, real=True)
    metric.update(fx, real=False)
    return _compute_seeded(metric, seed)  # std over subsets (n in the denominator)


def inception_score_from(logits: torch.Tensor, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    from torchmetrics.image.inception import InceptionScore

    n = len(logits)
    if splits < 1 or n < 10 * splits:
        raise CourseError(f"The Inception Score with {splits} splits needs at least {10 * max(splits, 1)} samples (got {n}).")
    # normalize must stay False: with it torchmetrics turns the input into bytes, even for a custom module.
    metric = _quiet(InceptionScore, feature=Precomputed(logits.shape[1]), splits=splits)
    metric.update(logits)
    return _compute_seeded(metric, seed)  # std over splits (n-1 in the denominator): NaN for splits=1


def _check_k(k: int, n: int, what: str) -> None:
    if not 1 <= k < n:
        raise CourseError(f"k={k} must be at least 1 and smaller than the {n} {what}.")


def _radii(f: torch.Tensor, k: int) -> torch.Tensor:
    """Distance from each point to its k-th nearest other point (the point itself is at distance 0)."""
    return torch.cdist(f, f).kthvalue(k + 1, dim=1).values


def precision_recall_from(fx: torch.Tensor, fr: torch.Tensor, k: int = 3) -> tuple[float, float]:
    fx, fr = fx.double(), fr.double()
    _check_k(k, len(fr), "reference images")
    _check_k(k, len(fx), "samples")
    d = torch.cdist(fr, fx)  # (real, fake)
    precision = (d <= _radii(fr, k)[:, None]).any(0).double().mean()  # sample inside some real ball
    recall = (d <= _radii(fx, k)[None, :]).any(1).double().mean()     # real inside some sample ball
    return float(precision), float(recall)


def density_coverage_from(fx: torch.Tensor, fr: torch.Tensor, k: int = 5) -> tuple[float, float]:
    fx, fr = fx.double(), fr.double()
    _check_k(k, len(fr), "reference images")
    inside = torch.cdist(fr, fx) < _radii(fr, k)[:, None]  # strict, as in Naeem et al.'s code
    density = inside.double().sum() / (k * len(fx))
    coverage = inside.any(1).double().mean()
    return float(density), float(coverage)


# --- metrics on images ------------------------------------------------------------------------------

def frechet_distance(x01: torch.Tensor, ref01: torch.Tensor, clf: Classifier | None = None) -> float:
    """FD: the classifier-feature Fréchet distance between samples and reference digits (lower is better)."""
    return frechet_distance_from(features(x01, clf), features(ref01, clf))


def kid(x01: torch.Tensor, ref01: torch.Tensor, subset_size: int = 200, subsets: int = 100,
        seed: int = 0, clf: Classifier | None = None) -> tuple[float, float]:
    """Kernel distance (unbiased MMD², cubic kernel) over ``subsets`` random subsets: (mean, std); 0 is best."""
    return kid_from(features(x01, clf), features(ref01, clf), subset_size, subsets, seed)


def inception_score(x01: torch.Tensor, splits: int = 10, seed: int = 0,
                    clf: Classifier | None = None) -> tuple[float, float]:
    """Inception Score with the course classifier's class probabilities: (mean, std over splits), 1..10."""
    return inception_score_from(embed(x01, clf).logits, splits, seed)


def class_shares(x01: torch.Tensor, clf: Classifier | None = None) -> list[float]:
    """Share of the samples per predicted class (10 numbers summing to 1); :func:`helpers.class_histogram` plots them."""
    return _shares(embed(x01, clf).logits)


def _shares(logits: torch.Tensor) -> list[float]:
    return (torch.bincount(logits.argmax(1), minlength=10).double() / len(logits)).tolist()


@torch.no_grad()
def nearest_neighbours(x01: torch.Tensor, train01: torch.Tensor, k: int = 1,
                       chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-space L2 distances ``(n, k)`` from each image to its k nearest training images, and their indices.

    Pixels, not features: a copied training digit is then exactly at distance 0 (features also match
    different digits drawn alike). Candidates are ranked with fast matrix products on the training
    images' device; the distances returned are recomputed directly, so copies give exactly 0."""
    x01, train01 = check_images(x01).float(), check_images(train01, "training images").float()
    if not 1 <= k <= len(train01):
        raise CourseError(f"k={k} must be between 1 and the {len(train01)} training images.")
    dev = train01.device
    t = train01.flatten(1)
    dists, idxs = [], []
    for i in range(0, len(x01), chunk):
        q = x01[i:i + chunk].to(dev).flatten(1)
        idx = torch.cdist(q, t).topk(k, dim=1, largest=False).indices
        d = (q[:, None, :] - t[idx]).double().pow(2).sum(2).sqrt()
        d, order = d.sort(dim=1)
        dists.append(d.cpu())
        idxs.append(idx.gather(1, order).cpu())
    return torch.cat(dists), torch.cat(idxs)


def memorization(x01: torch.Tensor, train01: torch.Tensor, heldout01: torch.Tensor,
                 quantile: float = 0.05) -> tuple[float, float]:
    """(share, ratio): the share of samples closer to a training digit (pixel L2) than the closest
    ``quantile`` of held-out digits are (about ``quantile`` for a generator that does not copy, 1 for
    copies), and the median distance of samples over that of held-out digits (0 for copies)."""
    dh = nearest_neighbours(heldout01, train01)[0][:, 0]
    return memorization_from(nearest_neighbours(x01, train01)[0][:, 0], dh, quantile)


def memorization_from(dx: torch.Tensor, dh: torch.Tensor, quantile: float = 0.05) -> tuple[float, float]:
    """:func:`memorization` on given nearest-training distances of the samples (``dx``) and of held-out
    digits (``dh``), so the held-out digits' distances are computed once for many models."""
    threshold = torch.quantile(dh.double(), quantile)
    return float((dx < threshold).double().mean()), float(dx.median() / dh.median())


# --- all of them --------------------------------------------------------------------------------------

@dataclass
class Scores:
    n: int                     # samples used
    n_ref: int                 # reference (held-out) digits used
    fd: float                  # Fréchet distance
    kid: float
    kid_std: float             # std over subsets
    kid_subset_size: int
    inception_score: float
    inception_score_std: float  # std over splits
    precision: float           # k = k_pr
    recall: float
    density: float             # k = k_dc
    coverage: float
    k_pr: int
    k_dc: int
    class_hist: list[float]
    memorized: float | None = None  # share of samples closer to a training digit than held-out digits are
    nn_ratio: float | None = None   # median nearest-training distance, samples over held-out digits

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        text = (f"N={self.n} (ref {self.n_ref}): FD={self.fd:.2f}, KID={self.kid:.4f}±{self.kid_std:.4f}, "
                f"IS={self.inception_score:.2f}, precision={self.precision:.2f}, recall={self.recall:.2f}, "
                f"density={self.density:.2f}, coverage={self.coverage:.2f}")
        if self.memorized is not None:
            text += f", memorized={self.memorized:.1%}, NN ratio={self.nn_ratio:.2f}"
        return text


def evaluate(x01: torch.Tensor, ref01: torch.Tensor, train01: torch.Tensor | None = None, n: int | None = None,
             k_pr: int = 3, k_dc: int = 5, kid_subset_size: int = 200, kid_subsets: int = 100,
             splits: int = 10, seed: int = 0, clf: Classifier | None = None) -> Scores:
    """Every metric for samples ``x01`` against real held-out digits ``ref01`` (not training digits).

    ``n``: use the first ``n`` of each set, so models are compared at equal N (default: all of them).
    ``train01``: the training digits, for the memorization check (skipped when ``None``)."""
    x01, ref01 = check_images(x01, "samples"), check_images(ref01, "reference images")
    if n is not None:
        if n > min(len(x01), len(ref01)):
            raise CourseError(f"n={n} is more than the {len(x01)} samples or {len(ref01)} reference digits given.")
        x01, ref01 = x01[:n], ref01[:n]
    scores = scores_from(embed(x01, clf), embed(ref01, clf), k_pr, k_dc, kid_subset_size, kid_subsets, splits, seed)
    if train01 is not None:
        scores.memorized, scores.nn_ratio = memorization(x01, train01, ref01)
    return scores


def scores_from(ex: Embedding, er: Embedding, k_pr: int = 3, k_dc: int = 5, kid_subset_size: int = 200,
                kid_subsets: int = 100, splits: int = 10, seed: int = 0) -> Scores:
    """:func:`evaluate` on given embeddings of the samples (``ex``) and of the reference digits (``er``),
    without the memorization check (it needs pixels: see :func:`memorization_from`)."""
    fx, fr = ex.features, er.features
    kid_mean, kid_std = kid_from(fx, fr, kid_subset_size, kid_subsets, seed)
    is_mean, is_std = inception_score_from(ex.logits, splits, seed)
    precision, recall = precision_recall_from(fx, fr, k_pr)
    density, coverage = density_coverage_from(fx, fr, k_dc)
    return Scores(n=len(fx), n_ref=len(fr), fd=frechet_distance_from(fx, fr), kid=kid_mean, kid_std=kid_std,
                  kid_subset_size=kid_subset_size, inception_score=is_mean, inception_score_std=is_std,
                  precision=precision, recall=recall, density=density, coverage=coverage,
                  k_pr=k_pr, k_dc=k_dc, class_hist=_shares(ex.logits))
