import pytest
import torch

import helpers
from helpers.latent import LatentExplorer, lerp, slerp
from helpers.models import MLPGenerator


def test_interpolation_endpoints_and_norms():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, generator=g), torch.randn(64, generator=g)
    t = torch.linspace(0, 1, 5)
    for path in (lerp, slerp):
        zs = path(a, b, t)
        assert zs.shape == (5, 64)
        assert torch.allclose(zs[0], a, atol=1e-5) and torch.allclose(zs[-1], b, atol=1e-5)
    # slerp between vectors of equal norm keeps that norm; lerp's midpoint is shorter
    a2, b2 = a / a.norm() * 8, b / b.norm() * 8
    assert torch.allclose(slerp(a2, b2, t).norm(dim=1), torch.full((5,), 8.0), atol=1e-4)
    assert lerp(a2, b2, 0.5).norm() < 0.8 * 8


def test_explorer_renders_and_refuses_bad_values():
    ex = LatentExplorer(MLPGenerator(nz=8, hidden=(16,)), choices=6, directions=2)
    first = ex.image.value
    assert first[:4] == b"\x89PNG"
    ex.set(a=1, b=4, t=0.2, path="linear", nudges=[0.5, -1.0])
    assert ex.image.value != first and ex.message.value == ""
    ex.set(b=1)
    assert "two different samples" in ex.message.value
    for bad in ({"a": 6}, {"t": 1.5}, {"path": "curvy"}, {"nudges": [9, 0]}, {"nudges": [1]}):
        with pytest.raises(helpers.CourseError):
            ex.set(**bad)


def test_ema_tracks_the_average():
    m = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        m.weight.fill_(0.0)
    ema = helpers.EMA(m, decay=0.5)
    with torch.no_grad():
        m.weight.fill_(1.0)
    ema.update(m)
    ema.update(m)
    assert ema.model.weight.item() == pytest.approx(0.75)  # 0 -> 0.5 -> 0.75
    with pytest.raises(helpers.CourseError):
        helpers.EMA(m, decay=1.0)
    warm = helpers.EMA(m, decay=0.999, warmup=True)   # m's weight is 1, the copy's too: move it to 0 first
    with torch.no_grad():
        warm.model.weight.fill_(0.0)
    warm.update(m)
    assert warm.model.weight.item() == pytest.approx(1 - 2 / 11)   # decay (1 + 1) / (10 + 1) at the first update


def test_digit_picker_generates_and_refuses_bad_values():
    from helpers.latent import DigitPicker
    from helpers.models import DCGANGenerator

    picker = DigitPicker(DCGANGenerator(nz=8, ngf=4, num_classes=10), digit=8, count=4)
    first = picker.image.value
    assert first[:4] == b"\x89PNG" and "digit 8" in picker.message.value
    picker.set(digit=3, seed=5)
    assert picker.image.value != first and "digit 3" in picker.message.value
    for bad in ({"digit": 10}, {"digit": -1}, {"digit": "8"}, {"seed": 100}, {"seed": 1.5}):
        with pytest.raises(helpers.CourseError, match="choose 0 to 9|from 0 to 99"):
            picker.set(**bad)
    with pytest.raises(helpers.CourseError, match="conditional generator"):
        DigitPicker(MLPGenerator(nz=8, hidden=(16,)))
