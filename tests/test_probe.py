"""helpers.speed_probe: images per second of notebook 03's step, and the sum that scales a stated run time."""
import pytest
import torch

import helpers
from helpers.probe import scaled_seconds


def test_probe_gives_a_positive_rate_and_leaves_the_random_state_alone():
    torch.manual_seed(3)
    expected = torch.rand(4)
    torch.manual_seed(3)
    rate = helpers.speed_probe(steps=2, warmup=0, device="cpu")
    assert rate > 0 and torch.equal(torch.rand(4), expected)


def test_a_stated_time_scales_with_the_inverse_of_the_probe():
    assert scaled_seconds(300, stated_probe=1200, probe=600) == 600   # half as fast: twice as long
    with pytest.raises(helpers.CourseError, match="positive"):
        scaled_seconds(300, stated_probe=0, probe=600)


@pytest.mark.parametrize("kw", [{"steps": 0}, {"steps": 2.5}, {"warmup": -1}])
def test_bad_probe_arguments_get_one_sentence(kw):
    with pytest.raises(helpers.CourseError, match="steps must be a whole number"):
        helpers.speed_probe(**kw)


def test_gflop_counts_a_matrix_product_by_hand_and_follows_autograd_grad(capfd):
    from helpers.probe import gflop
    layer, x = torch.nn.Linear(784, 512, bias=False), torch.randn(128, 784, requires_grad=True)
    with torch.no_grad():
        assert gflop(layer, x) == pytest.approx(2 * 128 * 784 * 512 / 1e9)   # one (128x784)(784x512) product

    def with_penalty():   # a gradient penalty: torch.autograd.grad with create_graph, then backward through it
        out = layer(x).sum()
        g, = torch.autograd.grad(out, x, create_graph=True)
        ((g.norm(dim=1) - 1) ** 2).mean().backward()

    assert gflop(with_penalty) > gflop(lambda: layer(x).sum().backward())
    assert "profiler_start" not in capfd.readouterr().err   # the profiler's native log lines are silenced
