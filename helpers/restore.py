"""Degradations, classical baselines and metrics for restoring MNIST digits with a generator as prior.

Notebook 05 degrades real digits (noise, blur, missing pixels), then searches for a latent ``z``
whose image ``G(z)``, degraded the same way, matches the measurement. This module holds the pieces
around that search loop:

* operators: :class:`AddNoise`, :class:`GaussianBlur`, :class:`Mask`, chained with :class:`Compose`.
  ``op(x)`` simulates a measurement; ``op.forward_model(x)`` is its deterministic part (noise left
  out), the ``A`` of a data term ``|A(G(z)) - y|^2``, differentiable so gradients reach ``z``;
  ``op.observed`` names the pixels a data term may use (``None``: all of them);
* classical baselines to compare against: :func:`baseline_denoise` (scipy.ndimage filters, or
  skimage's total-variation denoising),
  :func:`baseline_deblur` (skimage's Wiener-Hunt deconvolution), :func:`baseline_inpaint`
  (the masked image, or skimage's biharmonic inpainting);
* per-image metrics :func:`psnr` and :func:`ssim` (torchmetrics).

Images are float tensors of shape ``(n, 1, 28, 28)``, ``(1, 28, 28)`` or ``(28, 28)`` on any device,
in any range (``[0, 1]`` or ``[-1, 1]``); every function returns the shape it was given. Noise
levels and fill values are in the image's units, so ``sigma=0.1`` is twice as strong, relative to
the range, on ``[0, 1]`` images as on ``[-1, 1]`` images.
"""
from __future__ import annotations

import math
import numbers
from typing import Iterator

import numpy as np
import torch

from .config import CourseError
from .data import check_images

__all__ = [
    "Operator", "AddNoise", "GaussianBlur", "Mask", "Compose",
    "baseline_denoise", "baseline_deblur", "baseline_inpaint", "psnr", "ssim",
]

SIZE = 28
BLUR_SIGMA_MAX = 5.0      # pixels; beyond this a 28x28 digit is a grey smudge
MAX_KERNEL = 2 * SIZE - 1  # reflect padding needs a pad smaller than the image


# ----------------------------------------------------------------------------- validation helpers

def _number(value: object, what: str) -> float:
    """``value`` as a finite float, or a CourseError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise CourseError(f"{what}={value!r} must be a finite number.")
    return float(value)


def _whole(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise CourseError(f"{what}={value!r} must be a whole number.")
    return int(value)


def _pair(x: object, ref: object) -> tuple[torch.Tensor, torch.Tensor]:
    a, b = check_images(x, "images", unit=False), check_images(ref, "reference images", unit=False)
    if a.shape != b.shape:
        raise CourseError(f"The images {tuple(a.shape)} and the reference {tuple(b.shape)} must have the same shape.")
    # On the CPU in float64: exact enough for hand-checked values, and MPS has no float64.
    return a.detach().cpu().double(), b.detach().cpu().double()


# ----------------------------------------------------------------------------- operators

class Operator:
    """A degradation ``y = op(x)``; subclasses define :meth:`degrade` and, if it is random, :meth:`forward_model`.

    ``op(x)`` simulates a measurement; ``op.forward_model(x)`` is its deterministic, differentiable
    part (for the data term); ``op.observed`` is the boolean mask of usable pixels or ``None`` (all).
    """

    observed: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The degraded images, same shape, device and dtype as ``x``."""
        return self.degrade(check_images(x, unit=False)).reshape(x.shape)

    def forward_model(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic part of the degradation (same as ``op(x)`` unless the operator adds noise)."""
        return self(x)

    def degrade(self, x: torch.Tensor) -> torch.Tensor:  # x: (n, 1, 28, 28), already checked
        raise NotImplementedError

    def describe(self) -> str:
        """A short human description, e.g. ``'Gaussian blur, sigma 1.5 px'``."""
        return repr(self)


class AddNoise(Operator):
    """Additive Gaussian noise of standard deviation ``sigma`` (in the image's units; 0 adds none).

    With a ``seed``, every call adds the same noise to inputs of the same shape (drawn on the CPU,
    so it is also the same on every device); without one, it draws from torch's global generator.
    :meth:`forward_model` is the identity: noise belongs to the measurement, not to the data term.
    """

    def __init__(self, sigma: float, seed: int | None = None) -> None:
        sigma = _number(sigma, "AddNoise sigma")
        if sigma < 0:
            raise CourseError(f"AddNoise sigma={sigma:g} is negative; a noise level is a standard deviation >= 0.")
        self.sigma = sigma
        self.seed = None if seed is None else _whole(seed, "AddNoise seed")

    def degrade(self, x: torch.Tensor) -> torch.Tensor:
        if self.seed is None:
            noise = torch.randn_like(x)
        else:
            gen = torch.Generator().manual_seed(self.seed)
            noise = torch.randn(x.shape, generator=gen).to(device=x.device, dtype=x.dtype)
        return x + self.sigma * noise

    def forward_model(self, x: torch.Tensor) -> torch.Tensor:
        """The identity (after checking the shape): the data term compares ``G(z)`` itself with ``y``."""
        check_images(x, unit=False)
        return x

    def __repr__(self) -> str:
        return f"AddNoise(sigma={self.sigma:g}" + ("" if self.seed is None else f", seed={self.seed}") + ")"

    def describe(self) -> str:
        return f"Gaussian noise, sigma {self.sigma:g}"


class GaussianBlur(Operator):
    """Blur with a normalized Gaussian kernel of ``sigma`` pixels (0 < sigma <= 5).

    The border is padded by reflection (as ``F.pad(mode="reflect")``), so the shape is kept and a
    constant image stays constant whatever its value. ``kernel_size`` defaults to
    ``2 * ceil(3 * sigma) + 1``; :attr:`kernel` is the ``(k, k)`` kernel (it sums to 1).

    The kernel is separable, so the blur is computed as ``B @ x @ B.T``: :meth:`matrix` ``B`` blurs each
    column with the 1-D kernel, reflection included. It gives what ``conv2d`` with the ``(k, k)`` kernel
    on the padded image gives, to rounding, about 60 times faster on a CPU, where a one-channel ``conv2d``
    takes a slow path (forward and backward, 300 digits, sigma 1.5: 0.69 ms instead of 42 ms in
    bench/results.md, section "restore").
    """

    def __init__(self, sigma: float, kernel_size: int | None = None) -> None:
        sigma = _number(sigma, "GaussianBlur sigma")
        if not 0 < sigma <= BLUR_SIGMA_MAX:
            raise CourseError(f"GaussianBlur sigma={sigma:g} is outside 0 < sigma <= {BLUR_SIGMA_MAX:g} pixels; "
                              "try a value between 1 and 2.")
        if kernel_size is None:
            kernel_size = 2 * math.ceil(3 * sigma) + 1
        elif isinstance(kernel_size, bool) or not isinstance(kernel_size, numbers.Integral) \
                or not (3 <= kernel_size <= MAX_KERNEL and kernel_size % 2 == 1):
            raise CourseError(f"GaussianBlur kernel_size={kernel_size!r} must be an odd whole number from 3 to "
                              f"{MAX_KERNEL}; leave it out to get 2 * ceil(3 * sigma) + 1.")
        self.sigma, self.kernel_size = sigma, int(kernel_size)
        r = self.kernel_size // 2
        t = torch.arange(-r, r + 1, dtype=torch.float64)
        g = torch.exp(-t**2 / (2 * sigma**2))
        g = g / g.sum()
        self._kernel1d = g                      # (k,), sums to 1
        self._kernel64 = torch.outer(g, g)      # (k, k), sums to 1: separable and normalized
        self.kernel = self._kernel64.float()
        self._matrices: dict[int, torch.Tensor] = {}  # by image side, made on first use

    def matrix(self, n: int = SIZE) -> torch.Tensor:
        """The ``(n, n)`` float64 matrix that blurs a column of ``n`` pixels: row ``i`` holds the 1-D kernel's
        weights on the pixels that the reflect-padded window around pixel ``i`` reads."""
        if n in self._matrices:
            return self._matrices[n]
        r = self.kernel_size // 2
        if r >= n:
            raise CourseError(f"A {self.kernel_size}x{self.kernel_size} blur kernel needs images larger than {r} pixels; got {n}.")
        src = (torch.arange(n)[:, None] + torch.arange(-r, r + 1)).abs()   # (n, k): the pixel each tap reads,
        src = torch.where(src > n - 1, 2 * (n - 1) - src, src)              # reflected at both borders
        self._matrices[n] = torch.zeros(n, n, dtype=torch.float64).scatter_add_(1, src, self._kernel1d.expand(n, -1))
        return self._matrices[n]

    def degrade(self, x: torch.Tensor) -> torch.Tensor:
        rows, cols = (self.matrix(n).to(dtype=x.dtype).to(x.device) for n in x.shape[-2:])  # cast on the CPU: MPS has no float64
        return rows @ x @ cols.T

    def __repr__(self) -> str:
        default = 2 * math.ceil(3 * self.sigma) + 1
        size = "" if self.kernel_size == default else f", kernel_size={self.kernel_size}"
        return f"GaussianBlur(sigma={self.sigma:g}{size})"

    def describe(self) -> str:
        return f"Gaussian blur, sigma {self.sigma:g} px ({self.kernel_size}x{self.kernel_size} kernel)"


class Mask(Operator):
    """Hide pixels: observed ones are kept, hidden ones set to ``fill`` (default 0, in the image's units).

    ``mask`` is a boolean or 0/1 tensor (True/1 = observed) of shape ``(28, 28)``, ``(1, 28, 28)`` or
    ``(n, 1, 28, 28)`` (one mask per image). Or build one with :meth:`half`, :meth:`box` or
    :meth:`random_pixels`. ``observed`` is the boolean ``(1 or n, 1, 28, 28)`` CPU tensor; a mask
    must hide some pixels and keep some in every image. Gradients reach observed pixels only.
    """

    def __init__(self, mask: torch.Tensor | np.ndarray, fill: float = 0.0, *, _name: str | None = None) -> None:
        if isinstance(mask, np.ndarray):
            mask = torch.from_numpy(mask)
        if not isinstance(mask, torch.Tensor):
            raise CourseError(f"Mask needs a boolean tensor of shape (28, 28) (True = observed), not {type(mask).__name__}.")
        shape = tuple(mask.shape)
        if shape in ((SIZE, SIZE), (1, SIZE, SIZE)):
            mask = mask.reshape(1, 1, SIZE, SIZE)
        elif not (len(shape) == 4 and shape[1:] == (1, SIZE, SIZE) and shape[0] > 0):
            raise CourseError(f"The mask has shape {shape}, but must be (28, 28), (1, 28, 28) or (n, 1, 28, 28).")
        mask = mask.detach().cpu()
        if mask.dtype != torch.bool:
            if mask.is_complex() or not bool(((mask == 0) | (mask == 1)).all()):
                raise CourseError("The mask holds values other than 0 and 1; pass a boolean tensor (True = observed).")
            mask = mask != 0
        per_image = mask.flatten(1).sum(1)
        if bool((per_image == 0).any()):
            raise CourseError("The mask observes no pixel (of at least one image); keep some pixels True "
                              "(observed) in every mask.")
        if bool((per_image == SIZE * SIZE).any()):
            raise CourseError("The mask observes every pixel (of at least one image), so there is nothing to inpaint; "
                              "set the hidden pixels to False.")
        self._observed = mask.clone()
        self.fill = _number(fill, "Mask fill")
        self._name = _name

    @property
    def observed(self) -> torch.Tensor:  # type: ignore[override]
        """Boolean ``(1 or n, 1, 28, 28)`` CPU tensor, True where the pixel is observed."""
        return self._observed.clone()

    @property
    def fraction_observed(self) -> float:
        """The share of observed pixels over all masks."""
        return float(self._observed.float().mean())

    def degrade(self, x: torch.Tensor) -> torch.Tensor:
        m = self._observed
        if m.shape[0] not in (1, x.shape[0]):
            raise CourseError(f"The mask holds {m.shape[0]} masks but the batch has {x.shape[0]} images; "
                              "use one mask for all or one per image.")
        return torch.where(m.to(x.device), x, torch.full((), self.fill, dtype=x.dtype, device=x.device))

    # -- constructors
    @classmethod
    def half(cls, side: str = "bottom", fill: float = 0.0) -> "Mask":
        """Hide one half of the image: ``side`` is the hidden half ('bottom', 'top', 'left' or 'right')."""
        sides = ("bottom", "top", "left", "right")
        if side not in sides:
            raise CourseError(f"side={side!r} is not a side; use one of {', '.join(repr(s) for s in sides)}.")
        h = SIZE // 2
        hidden = {"bottom": (slice(h, None), slice(None)), "top": (slice(None, h), slice(None)),
                  "left": (slice(None), slice(None, h)), "right": (slice(None), slice(h, None))}[side]
        m = torch.ones(SIZE, SIZE, dtype=torch.bool)
        m[hidden] = False
        return cls(m, fill, _name=f"Mask.half(side={side!r})")

    @classmethod
    def box(cls, top: int, left: int, height: int, width: int, fill: float = 0.0) -> "Mask":
        """Hide the rectangle of ``height x width`` pixels whose top-left corner is at row ``top``, column ``left``."""
        top, left = _whole(top, "top"), _whole(left, "left")
        height, width = _whole(height, "height"), _whole(width, "width")
        if height < 1 or width < 1 or top < 0 or left < 0 or top + height > SIZE or left + width > SIZE:
            raise CourseError(f"The box (top={top}, left={left}, height={height}, width={width}) must lie inside "
                              "the 28x28 image with height and width >= 1.")
        m = torch.ones(SIZE, SIZE, dtype=torch.bool)
        m[top:top + height, left:left + width] = False
        return cls(m, fill, _name=f"Mask.box(top={top}, left={left}, height={height}, width={width})")

    @classmethod
    def random_pixels(cls, fraction: float, seed: int = 0, n: int = 1, fill: float = 0.0) -> "Mask":
        """Hide ``round(fraction * 784)`` pixels chosen at random (at least 1, at most 783).

        ``fraction`` is the share hidden, 0 < fraction < 1; ``n`` masks (one per image) are drawn
        from ``seed``, so the same arguments give the same mask.
        """
        fraction = _number(fraction, "Mask.random_pixels fraction")
        if not 0 < fraction < 1:
            raise CourseError(f"fraction={fraction:g} is the share of pixels to hide and must lie strictly "
                              "between 0 and 1, e.g. 0.5.")
        seed, n = _whole(seed, "seed"), _whole(n, "n")
        if n < 1:
            raise CourseError(f"n={n} must be the number of masks to draw, 1 or more.")
        hidden = min(max(round(fraction * SIZE * SIZE), 1), SIZE * SIZE - 1)
        gen = torch.Generator().manual_seed(seed)
        order = torch.rand(n, SIZE * SIZE, generator=gen).argsort(dim=1)
        m = torch.ones(n, SIZE * SIZE, dtype=torch.bool)
        m.scatter_(1, order[:, :hidden], False)
        name = f"Mask.random_pixels(fraction={fraction:g}, seed={seed}" + ("" if n == 1 else f", n={n}") + ")"
        return cls(m.reshape(n, 1, SIZE, SIZE), fill, _name=name)

    def __repr__(self) -> str:
        name = self._name or f"Mask(<{self._observed.shape[0]} x 28x28, {self.fraction_observed:.0%} observed>)"
        if self.fill != 0 and self._name:
            name = name[:-1] + f", fill={self.fill:g})"
        return name

    def describe(self) -> str:
        return f"mask, {self.fraction_observed:.0%} of pixels observed"


class Compose(Operator):
    """Apply operators left to right: ``Compose(GaussianBlur(1.5), AddNoise(0.1))`` blurs, then adds noise.

    ``forward_model`` chains the parts' forward models; ``observed`` combines the masks in the chain
    (``None`` without one).
    """

    def __init__(self, *ops: Operator) -> None:
        flat: list[Operator] = []
        for op in ops:
            if not isinstance(op, Operator):
                raise CourseError(f"Compose takes operators such as GaussianBlur(1.5) or AddNoise(0.1), "
                                  f"not {type(op).__name__}.")
            flat.extend(op.ops if isinstance(op, Compose) else (op,))
        if not flat:
            raise CourseError("Compose needs at least one operator, e.g. Compose(GaussianBlur(1.5), AddNoise(0.05)).")
        self.ops: tuple[Operator, ...] = tuple(flat)

    def __iter__(self) -> Iterator[Operator]:
        return iter(self.ops)

    def degrade(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.ops:
            x = op.degrade(x)
        return x

    def forward_model(self, x: torch.Tensor) -> torch.Tensor:
        y = check_images(x, unit=False)
        for op in self.ops:
            y = op.forward_model(y)
        return y.reshape(x.shape)

    @property
    def observed(self) -> torch.Tensor | None:  # type: ignore[override]
        masks = [op.observed for op in self.ops if op.observed is not None]
        if not masks:
            return None
        out = masks[0]
        for m in masks[1:]:
            out = out & m
        return out

    def __repr__(self) -> str:
        return f"Compose({', '.join(repr(op) for op in self.ops)})"

    def describe(self) -> str:
        return ", then ".join(op.describe() for op in self.ops)


# ----------------------------------------------------------------------------- baselines

def _numpy(y: torch.Tensor) -> np.ndarray:
    return y.detach().to("cpu", torch.float64).numpy()


def _back(out: np.ndarray, like: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(out)).to(device=like.device, dtype=like.dtype).reshape(shape)


def baseline_denoise(y: torch.Tensor, *, method: str = "gaussian", sigma: float = 0.7, size: int = 3,
                     weight: float = 0.1) -> torch.Tensor:
    """A classical denoiser, per image: ``scipy.ndimage.gaussian_filter`` of width ``sigma`` pixels (the
    filter's width, not the noise level), or with ``method="median"`` ``median_filter`` over a
    ``size x size`` window, both with reflected borders; widths above ~1 px wash out MNIST's thin strokes.
    ``method="tv"``: total-variation denoising (``skimage.restoration.denoise_tv_chambolle``), which
    flattens small wiggles but keeps edges; ``weight`` (in the image's units) sets how strongly, and
    the noise level is a good choice (little noise, little change)."""
    from scipy import ndimage

    b = check_images(y, "noisy images", unit=False)
    if method == "gaussian":
        s = _number(sigma, "baseline_denoise sigma")
        if not 0 < s <= BLUR_SIGMA_MAX:
            raise CourseError(f"baseline_denoise sigma={s:g} is the filter width in pixels and must lie in "
                              f"0 < sigma <= {BLUR_SIGMA_MAX:g}; try 0.7.")
        out = ndimage.gaussian_filter(_numpy(b), sigma=(0, 0, s, s), mode="reflect")
    elif method == "median":
        k = _whole(size, "baseline_denoise size")
        if not (3 <= k <= SIZE and k % 2 == 1):
            raise CourseError(f"baseline_denoise size={k} must be an odd window side from 3 to 27; try 3.")
        out = ndimage.median_filter(_numpy(b), size=(1, 1, k, k), mode="reflect")
    elif method == "tv":
        from skimage.restoration import denoise_tv_chambolle

        w = _number(weight, "baseline_denoise weight")
        if w <= 0:
            raise CourseError(f"baseline_denoise weight={w:g} must be positive (larger = smoother); "
                              "try the noise level, e.g. 0.1.")
        images = _numpy(b)
        out = np.stack([denoise_tv_chambolle(img[0], weight=w)[None] for img in images])
    else:
        raise CourseError(f"method={method!r} is not a denoiser; use 'gaussian', 'median' or 'tv'.")
    return _back(out, y, y.shape)


def baseline_deblur(y: torch.Tensor, blur: GaussianBlur, noise_sigma: float, *,
                    balance: float | None = None) -> torch.Tensor:
    """Wiener-Hunt deconvolution with the known kernel (``skimage.restoration.wiener``), per image.

    ``noise_sigma`` is the noise level in the image's units; unless ``balance`` is given it sets the
    regularization of each image to ``max(0.25 * noise_sigma**2 / var(y), 1e-4)`` (``var(y)``: its
    pixel variance; the factor was tuned on real digits, and the ratio keeps it range-agnostic).
    Larger ``balance`` = smoother. The deconvolution is circular (FFT); results are not clipped.
    """
    from skimage.restoration import wiener

    b = check_images(y, "blurred images", unit=False)
    if not isinstance(blur, GaussianBlur):
        raise CourseError(f"blur must be the GaussianBlur that made the images, e.g. GaussianBlur(1.5), "
                          f"not {type(blur).__name__}.")
    noise = _number(noise_sigma, "baseline_deblur noise_sigma")
    if noise < 0:
        raise CourseError(f"baseline_deblur noise_sigma={noise:g} is negative; pass the noise level (>= 0) you added.")
    if balance is not None:
        balance = _number(balance, "baseline_deblur balance")
        if balance <= 0:
            raise CourseError(f"baseline_deblur balance={balance:g} must be positive (larger = smoother); try 0.01.")
    psf = blur._kernel64.numpy()
    images = _numpy(b)[:, 0]
    out = np.empty_like(images)
    for i, img in enumerate(images):
        lam = balance if balance is not None else max(0.25 * noise**2 / max(float(img.var()), 1e-12), 1e-4)
        out[i] = wiener(img, psf, lam, clip=False)
    return _back(out[:, None], y, y.shape)


def baseline_inpaint(y: torch.Tensor, mask: Mask, *, method: str = "masked") -> torch.Tensor:
    """Fill the hidden pixels classically: ``"masked"`` returns ``mask(y)`` (hidden pixels at the fill
    value); ``"biharmonic"`` uses ``skimage.restoration.inpaint_biharmonic``. Observed pixels stay as in ``y``."""
    b = check_images(y, "masked images", unit=False)
    if not isinstance(mask, Mask):
        mask = Mask(mask)
    if method == "masked":
        return mask(y)
    if method != "biharmonic":
        raise CourseError(f"method={method!r} is not an inpainting baseline; use 'masked' or 'biharmonic'.")
    from skimage.restoration import inpaint_biharmonic

    masked = mask(b)  # checks that the mask count fits the batch
    hidden = (~mask.observed[:, 0]).numpy()
    images = _numpy(masked)[:, 0]
    out = np.empty_like(images)
    for i, img in enumerate(images):
        out[i] = inpaint_biharmonic(img, hidden[i % len(hidden)])
    result = _back(out[:, None], y, b.shape)
    result = torch.where(mask.observed.to(b.device), b, result)  # observed pixels exactly as given
    return result.reshape(y.shape)


# ----------------------------------------------------------------------------- metrics

def psnr(x: torch.Tensor, ref: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB of each image against ``ref``: a ``(n,)`` CPU tensor.

    ``data_range`` is the width of the value range: 1 for ``[0, 1]`` images, 2 for ``[-1, 1]``.
    Identical images give ``inf``. Values are not clipped.
    """
    from torchmetrics.functional.image import peak_signal_noise_ratio

    a, b = _pair(x, ref)
    rng = _data_range(data_range)
    out = peak_signal_noise_ratio(a, b, data_range=rng, reduction="none", dim=(1, 2, 3))
    return out.float()


def ssim(x: torch.Tensor, ref: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Structural similarity of each image to ``ref`` (Gaussian window, sigma 1.5, 11x11): a ``(n,)`` CPU tensor.

    ``data_range``: 1 for ``[0, 1]`` images, 2 for ``[-1, 1]``. 1 means identical.
    """
    from torchmetrics.functional.image import structural_similarity_index_measure

    a, b = _pair(x, ref)
    rng = _data_range(data_range)
    out = structural_similarity_index_measure(a, b, data_range=rng, reduction="none")
    return out.reshape(-1).float()


def _data_range(value: object) -> float:
    rng = _number(value, "data_range")
    if rng <= 0:
        raise CourseError(f"data_range={rng:g} must be positive: 1 for images in [0, 1], 2 for images in [-1, 1].")
    return rng
