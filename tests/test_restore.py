"""Degradation operators, classical baselines and metrics of helpers.restore, on small synthetic digits."""
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import helpers
from helpers.restore import (AddNoise, Compose, GaussianBlur, Mask, baseline_deblur, baseline_denoise,
                             baseline_inpaint, psnr, ssim)


def digits(n: int = 4) -> torch.Tensor:
    """Smooth synthetic 'digits' in [0, 1]: rings and bars of soft strokes, zero within 5 px of the border."""
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    out = []
    for i in range(n):
        cy, cx, r = 13.5 + (i % 3) - 1, 13.5 - (i % 2), 5.0 + i % 3
        ring = torch.exp(-((((yy - cy) ** 2 + (xx - cx) ** 2).sqrt() - r) ** 2) / (2 * 1.2**2))
        bar = torch.exp(-((xx - 10 - 2 * i % 8) ** 2) / (2 * 1.0**2)) * ((yy > 7) & (yy < 21))
        img = torch.maximum(ring, bar if i % 2 else 0 * bar)
        img[:5], img[-5:], img[:, :5], img[:, -5:] = 0, 0, 0, 0
        out.append(img)
    return torch.stack(out)[:, None]


def total_variation(x: torch.Tensor) -> torch.Tensor:
    return (x[..., 1:, :] - x[..., :-1, :]).abs().sum() + (x[..., :, 1:] - x[..., :, :-1]).abs().sum()


OPS = [AddNoise(0.1, seed=0), GaussianBlur(1.5), Mask.half(), Mask.random_pixels(0.5, seed=1),
       Compose(GaussianBlur(1.0), Mask.box(5, 5, 10, 10), AddNoise(0.05, seed=2))]


# ----------------------------------------------------------------------------- operators

@pytest.mark.parametrize("op", OPS, ids=repr)
@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (1, 28, 28), (28, 28)])
def test_operators_keep_shape_dtype_and_device(op, shape):
    x = torch.rand(shape, dtype=torch.float64)
    y = op(x)
    assert y.shape == x.shape and y.dtype == x.dtype and y.device == x.device
    assert op.forward_model(x).shape == x.shape
    assert not torch.equal(y, x)


def test_repr_and_describe():
    assert repr(GaussianBlur(1.5)) == "GaussianBlur(sigma=1.5)"
    assert repr(GaussianBlur(1.5, kernel_size=5)) == "GaussianBlur(sigma=1.5, kernel_size=5)"
    assert repr(AddNoise(0.1, seed=3)) == "AddNoise(sigma=0.1, seed=3)"
    assert repr(Mask.half("left")) == "Mask.half(side='left')"
    assert repr(Mask.random_pixels(0.8, seed=2)) == "Mask.random_pixels(fraction=0.8, seed=2)"
    op = Compose(GaussianBlur(2), AddNoise(0.05))
    assert repr(op) == "Compose(GaussianBlur(sigma=2), AddNoise(sigma=0.05))"
    assert op.describe() == "Gaussian blur, sigma 2 px (13x13 kernel), then Gaussian noise, sigma 0.05"
    assert "50%" in Mask.half().describe()


def test_noise_has_the_requested_std_and_is_reproducible_when_seeded():
    x = torch.full((500, 1, 28, 28), -0.3)
    noise = AddNoise(0.2, seed=0)(x) - x
    assert abs(noise.std().item() - 0.2) < 0.002 and abs(noise.mean().item()) < 0.002
    assert torch.equal(AddNoise(0.2, seed=0)(x), AddNoise(0.2, seed=0)(x))
    assert not torch.equal(AddNoise(0.2, seed=0)(x), AddNoise(0.2, seed=1)(x))
    assert not torch.equal(AddNoise(0.2)(x), AddNoise(0.2)(x))
    assert torch.equal(AddNoise(0.2, seed=0).forward_model(x), x)
    assert torch.equal(AddNoise(0)(x), x)


def test_blur_kernel_is_normalized_gaussian_and_a_delta_gives_it_back():
    blur = GaussianBlur(1.5)
    k = blur.kernel
    assert k.shape == (11, 11) and abs(k.sum().item() - 1) < 1e-6
    assert torch.allclose(k, k.T) and torch.allclose(k, k.flip(0))
    assert k[5, 5] == k.max() and k[5, 6] / k[5, 5] == pytest.approx(math.exp(-1 / (2 * 1.5**2)), rel=1e-5)
    delta = torch.zeros(1, 1, 28, 28)
    delta[0, 0, 14, 14] = 1
    out = blur(delta)[0, 0]
    assert torch.allclose(out[9:20, 9:20], k, atol=1e-7)
    assert abs(out.sum().item() - 1) < 1e-6


@pytest.mark.parametrize("sigma, kernel_size", [(1.5, None), (0.6, 3), (5.0, None), (2.0, 55)])
def test_blur_by_matrices_equals_conv2d_on_the_reflect_padded_image(sigma, kernel_size):
    blur = GaussianBlur(sigma, kernel_size)
    r = blur.kernel_size // 2
    x = torch.rand(4, 1, 28, 28, dtype=torch.float64)
    by_conv = F.conv2d(F.pad(x, (r, r, r, r), mode="reflect"), blur._kernel64[None, None])
    assert torch.allclose(blur(x), by_conv, rtol=0, atol=1e-12)
    assert torch.allclose(blur.matrix().sum(1), torch.ones(28, dtype=torch.float64), atol=1e-12)


def test_blur_keeps_constants_and_the_mean_away_from_borders_and_smooths():
    for value in (-1.0, 0.0, 0.37):
        const = torch.full((2, 1, 28, 28), value, dtype=torch.float64)
        assert torch.allclose(GaussianBlur(2.5)(const), const, atol=1e-12)
    x = digits(6)  # zero within 5 px of the border; a sigma-1 kernel reaches 3 px
    y = GaussianBlur(1.0)(x)
    assert torch.allclose(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)), rtol=1e-5)
    noisy = torch.rand(8, 1, 28, 28)
    assert total_variation(GaussianBlur(1.0)(noisy)) < 0.5 * total_variation(noisy)
    assert total_variation(y) < total_variation(x)


@pytest.mark.parametrize("side, hidden", [("bottom", (slice(14, 28), slice(None))), ("top", (slice(0, 14), slice(None))),
                                          ("left", (slice(None), slice(0, 14))), ("right", (slice(None), slice(14, 28)))])
def test_half_mask_hides_exactly_its_half(side, hidden):
    m = Mask.half(side, fill=-1.0)
    x = torch.rand(3, 1, 28, 28)
    y = m(x)
    expected = torch.ones(28, 28, dtype=torch.bool)
    expected[hidden] = False
    assert torch.equal(m.observed[0, 0], expected) and m.observed.dtype == torch.bool
    assert m.fraction_observed == 0.5
    assert torch.equal(y[:, :, expected], x[:, :, expected])
    assert (y[:, :, ~expected] == -1).all()


def test_box_and_random_masks():
    m = Mask.box(top=3, left=7, height=5, width=9)
    assert (~m.observed).sum() == 45 and not m.observed[0, 0, 3:8, 7:16].any()
    r = Mask.random_pixels(0.3, seed=4, n=3)
    assert r.observed.shape == (3, 1, 28, 28)
    assert ((~r.observed).flatten(1).sum(1) == round(0.3 * 784)).all()
    assert abs(r.fraction_observed - 0.7) < 1 / 784
    assert not torch.equal(r.observed[0], r.observed[1])
    assert torch.equal(r.observed, Mask.random_pixels(0.3, seed=4, n=3).observed)
    assert not torch.equal(r.observed, Mask.random_pixels(0.3, seed=5, n=3).observed)
    x = torch.rand(3, 1, 28, 28) + 1
    assert torch.equal(r(x) == 0, ~r.observed)  # exactly the hidden pixels are zeroed


@pytest.mark.parametrize("make", [
    lambda m: m, lambda m: m[None], lambda m: m[None, None].repeat(2, 1, 1, 1),
    lambda m: m.float(), lambda m: m.numpy().astype(np.uint8),
])
def test_mask_from_tensor_shapes_and_dtypes(make):
    base = torch.zeros(28, 28, dtype=torch.bool)
    base[:, ::2] = True
    m = Mask(make(base))
    assert m.fraction_observed == 0.5
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(m(x)[:, :, base], x[:, :, base]) and (m(x)[:, :, ~base] == 0).all()


def test_compose_applies_left_to_right():
    x = digits(3)
    blur, noise = GaussianBlur(1.5), AddNoise(0.1, seed=0)
    assert torch.equal(Compose(blur, noise)(x), noise(blur(x)))
    # Noise added last stays white; blurred noise is much weaker.
    assert (Compose(blur, noise)(x) - blur(x)).std() > 2 * (Compose(noise, blur)(x) - blur(x)).std()
    mask = Mask.half()
    op = Compose(Compose(blur, mask), noise)
    assert len(op.ops) == 3
    assert torch.equal(op.forward_model(x), mask(blur(x)))
    assert torch.equal(op.observed, mask.observed) and Compose(blur, noise).observed is None
    both = Compose(Mask.half("top"), Mask.half("left")).observed
    assert both.float().mean() == 0.25


def test_gradients_reach_the_input():
    x = torch.rand(2, 1, 28, 28, requires_grad=True)
    (GaussianBlur(1.5)(x) ** 2).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and (x.grad != 0).all()

    x.grad = None
    mask = Mask.random_pixels(0.6, seed=0)
    weights = torch.rand(2, 1, 28, 28) + 0.5
    (mask(x) * weights).sum().backward()
    obs = mask.observed.expand(2, -1, -1, -1)
    assert torch.equal(x.grad[obs], weights[obs]) and (x.grad[~obs] == 0).all()

    x.grad = None
    op = Compose(GaussianBlur(1.0), Mask.half(), AddNoise(0.1, seed=0))
    ((op.forward_model(x) - op(x.detach())) ** 2).sum().backward()
    assert (x.grad[:, :, :10] != 0).any() and (x.grad[:, :, 20:] == 0).all()


# ----------------------------------------------------------------------------- baselines

def test_denoise_baselines_improve_psnr():
    x = digits(6)
    y = AddNoise(0.15, seed=0)(x)
    before = psnr(y, x)
    for out in (baseline_denoise(y), baseline_denoise(y, method="median", size=3),
                baseline_denoise(y, method="tv", weight=0.15)):
        assert out.shape == y.shape
        assert (psnr(out, x) > before + 2).all()
    # TV with a weight at the noise level changes a lightly noisy digit little, and still improves it.
    light = AddNoise(0.02, seed=0)(x)
    tv = baseline_denoise(light, method="tv", weight=0.02)
    assert (psnr(tv, x) > psnr(light, x)).all() and (psnr(tv, light) > 30).all()
    assert baseline_denoise(x[0, 0], method="tv").shape == (28, 28)


def test_wiener_deblur_improves_psnr():
    x = digits(6)
    blur = GaussianBlur(1.5)
    y = Compose(blur, AddNoise(0.005, seed=0))(x)
    out = baseline_deblur(y, blur, noise_sigma=0.005)
    assert out.shape == y.shape and out.dtype == y.dtype
    assert (psnr(out, x) > psnr(y, x) + 5).all() and psnr(out, x).mean() > psnr(y, x).mean() + 8
    signed = baseline_deblur(y * 2 - 1, blur, noise_sigma=0.01)  # range-agnostic: the same result in [-1, 1]
    assert torch.allclose((signed + 1) / 2, out, atol=1e-4)
    # The default balance follows the noise level: close to the best of a grid, also with more noise.
    y = Compose(blur, AddNoise(0.05, seed=0))(x)
    default = psnr(baseline_deblur(y, blur, noise_sigma=0.05), x).mean()
    grid = [psnr(baseline_deblur(y, blur, 0.05, balance=b), x).mean() for b in (1e-4, 1e-3, 1e-2, 1e-1, 1.0)]
    assert default > max(grid) - 0.5 and default > psnr(y, x).mean() + 2


def test_inpaint_baselines_keep_observed_pixels():
    x = digits(4)
    mask = Mask.random_pixels(0.5, seed=0, n=4)
    y = mask(x)
    obs = mask.observed
    masked = baseline_inpaint(y, mask)
    assert torch.equal(masked, y)
    filled = baseline_inpaint(y, mask, method="biharmonic")
    assert filled.shape == y.shape and torch.equal(filled[obs], y[obs])
    assert (psnr(filled, x) > psnr(y, x) + 5).all()
    single = baseline_inpaint(y[0, 0], Mask.half(), method="biharmonic")
    assert single.shape == (28, 28)


def test_baselines_handle_a_hundred_images():
    x = digits(100)
    blur, mask = GaussianBlur(1.0), Mask.half()
    assert baseline_denoise(x, method="median").shape == x.shape
    assert baseline_deblur(blur(x), blur, 0.0).shape == x.shape
    assert baseline_inpaint(mask(x), mask, method="biharmonic").shape == x.shape


# ----------------------------------------------------------------------------- metrics

def test_metrics_against_hand_computed_values():
    x = torch.rand(3, 1, 28, 28) * 0.8
    p = psnr(x + 0.1, x, data_range=1.0)
    assert p.shape == (3,)
    assert torch.allclose(p, torch.full((3,), 20.0), atol=1e-4)  # 10 log10(1 / 0.1^2)
    assert torch.allclose(psnr(x + 0.1, x, data_range=2.0), torch.full((3,), 20 + 20 * math.log10(2)), atol=1e-4)
    assert psnr(x[0, 0], x[0, 0]).shape == (1,)
    offsets = torch.tensor([0.1, 0.01, 0.001]).reshape(3, 1, 1, 1)
    assert torch.allclose(psnr(x + offsets, x), torch.tensor([20.0, 40.0, 60.0]), atol=1e-3)  # one value per image
    s = ssim(x, x)
    assert s.shape == (3,) and torch.allclose(s, torch.ones(3))
    y = x.clone()
    y[1] = torch.rand(1, 28, 28)
    s = ssim(y, x)
    assert s[0] == pytest.approx(1) and s[1] < 0.5


# ----------------------------------------------------------------------------- error messages

x4 = torch.zeros(2, 1, 28, 28)
BAD = [
    (lambda: AddNoise(-0.1), "negative"),
    (lambda: AddNoise(float("nan")), "finite number"),
    (lambda: AddNoise(float("inf")), "finite number"),
    (lambda: AddNoise("0.1"), "finite number"),
    (lambda: AddNoise(0.1, seed=1.5), "whole number"),
    (lambda: GaussianBlur(0), r"0 < sigma <= 5"),
    (lambda: GaussianBlur(-1), r"0 < sigma <= 5"),
    (lambda: GaussianBlur(5.5), r"0 < sigma <= 5"),
    (lambda: GaussianBlur(float("nan")), "finite number"),
    (lambda: GaussianBlur(1, kernel_size=4), "odd whole number"),
    (lambda: GaussianBlur(1, kernel_size=57), "odd whole number"),
    (lambda: Mask.random_pixels(1.0), "strictly between 0 and 1"),
    (lambda: Mask.random_pixels(-0.2), "strictly between 0 and 1"),
    (lambda: Mask.random_pixels(0), "strictly between 0 and 1"),
    (lambda: Mask.random_pixels(float("nan")), "finite number"),
    (lambda: Mask(torch.zeros(28, 28, dtype=torch.bool)), "observes no pixel"),
    (lambda: Mask.box(0, 0, 28, 28), "observes no pixel"),
    (lambda: Mask(torch.ones(28, 28)), "observes every pixel"),
    (lambda: Mask(torch.ones(27, 28)), r"shape \(27, 28\)"),
    (lambda: Mask(torch.ones(2, 28, 28)), r"shape \(2, 28, 28\)"),
    (lambda: Mask(torch.full((28, 28), 0.5)), "other than 0 and 1"),
    (lambda: Mask([[1, 0]]), "boolean tensor"),
    (lambda: Mask.half("middle"), "not a side"),
    (lambda: Mask.box(20, 0, 10, 5), "inside the 28x28 image"),
    (lambda: Mask.box(0, 0, 0, 5), "inside the 28x28 image"),
    (lambda: Mask.random_pixels(0.5, n=3)(x4), "3 masks but the batch has 2"),
    (lambda: GaussianBlur(1)(torch.zeros(2, 28, 28)), r"unsqueeze\(1\)"),
    (lambda: GaussianBlur(1)(torch.zeros(2, 3, 28, 28)), r"must be \(n, 1, 28, 28\)"),
    (lambda: AddNoise(0.1)(torch.zeros(784)), r"must be \(n, 1, 28, 28\)"),
    (lambda: Mask.half()(torch.zeros(1, 1, 32, 32)), r"must be \(n, 1, 28, 28\)"),
    (lambda: AddNoise(0.1).forward_model(torch.zeros(5)), r"must be \(n, 1, 28, 28\)"),
    (lambda: GaussianBlur(1)(torch.zeros(1, 1, 28, 28, dtype=torch.uint8)), r"x\.float\(\)"),
    (lambda: GaussianBlur(1)(np.zeros((28, 28))), "torch tensor"),
    (lambda: Compose(), "at least one operator"),
    (lambda: Compose(GaussianBlur(1), abs), "not builtin_function_or_method"),
    (lambda: baseline_denoise(x4, method="wavelet"), "'gaussian', 'median' or 'tv'"),
    (lambda: baseline_denoise(x4, method="tv", weight=0), "weight=0 must be positive"),
    (lambda: baseline_denoise(x4, sigma=0), "filter width"),
    (lambda: baseline_denoise(x4, method="median", size=4), "odd window side"),
    (lambda: baseline_deblur(x4, 1.5, 0.01), "GaussianBlur that made the images"),
    (lambda: baseline_deblur(x4, GaussianBlur(1), -0.01), "negative"),
    (lambda: baseline_deblur(x4, GaussianBlur(1), 0.01, balance=0), "must be positive"),
    (lambda: baseline_inpaint(x4, Mask.half(), method="telea"), "'masked' or 'biharmonic'"),
    (lambda: baseline_inpaint(x4, torch.ones(28, 28)), "observes every pixel"),
    (lambda: psnr(x4, torch.zeros(3, 1, 28, 28)), "same shape"),
    (lambda: ssim(x4, x4, data_range=0), "data_range=0 must be positive"),
    (lambda: psnr(x4, x4, data_range=float("inf")), "finite number"),
]


@pytest.mark.parametrize("call, match", BAD, ids=[m for _, m in BAD])
def test_bad_input_gets_one_clear_sentence(call, match):
    with pytest.raises(helpers.CourseError, match=match) as err:
        call()
    message = str(err.value)
    assert "\n" not in message and message.endswith("."), message
