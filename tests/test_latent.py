"""helpers.latent (interpolation in latent space) and the generator average, helpers.EMA."""
import pytest
import torch

import helpers
from helpers.latent import lerp, slerp


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
