import pytest
import torch

import helpers
from helpers.models import MLPDiscriminator, MLPGenerator, count_parameters


def test_mlp_shapes_and_parameter_counts():
    G, D = MLPGenerator(nz=64), MLPDiscriminator(hidden=(512, 256))
    z = torch.randn(5, 64)
    x = G(z)
    assert x.shape == (5, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (5,)
    # Linear layers (weights + biases) and BatchNorm (scale + shift), counted by hand.
    g = (64 * 256 + 256) + 2 * 256 + (256 * 512 + 512) + 2 * 512 + (512 * 1024 + 1024) + 2 * 1024 + (1024 * 784 + 784)
    d = (784 * 512 + 512) + (512 * 256 + 256) + (256 + 1)
    assert count_parameters(G) == g == 1_480_720
    assert count_parameters(D) == d == 533_505


def test_sample_api():
    G = MLPGenerator(nz=8, hidden=(16,))
    x = G.sample(3, seed=1)
    assert x.shape == (3, 1, 28, 28) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert 0 <= x.min() and x.max() <= 1
    assert torch.equal(x, G.sample(3, seed=1))
    assert not torch.equal(x, G.sample(3, seed=2))
    assert G.training  # sample() restores the mode it found


@pytest.mark.parametrize("n", [0, -2, 2.5, "3"])
def test_sample_rejects_bad_counts(n):
    with pytest.raises(helpers.CourseError, match="positive whole number"):
        MLPGenerator(nz=8, hidden=(16,)).sample(n)


def test_unconditional_model_refuses_labels():
    with pytest.raises(helpers.CourseError, match="unconditional"):
        MLPGenerator(nz=8, hidden=(16,)).sample(2, labels=[1, 2])
