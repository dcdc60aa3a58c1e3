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


def test_dcgan_shapes_init_and_parameter_counts():
    from helpers.models import DCGANDiscriminator, DCGANGenerator, layer_table

    torch.manual_seed(0)
    G, D = DCGANGenerator(nz=100, ngf=32), DCGANDiscriminator(ndf=32)
    x = G(torch.randn(3, 100))
    assert x.shape == (3, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (3,)
    # ConvTranspose2d weights are (in, out, k, k); BatchNorm has a scale and a shift per channel.
    g = 100 * 128 * 49 + 2 * 128 + 128 * 64 * 16 + 2 * 64 + 64 * 32 * 16 + 2 * 32 + 32 * 1 * 9 + 1
    assert g == 791_777
    d = (1 * 32 * 16 + 32) + 32 * 64 * 16 + 2 * 64 + (64 * 49 + 1)
    assert count_parameters(G) == g and count_parameters(D) == d
    w = G.net[0].weight
    assert abs(w.mean().item()) < 0.002 and abs(w.std().item() - 0.02) < 0.002   # N(0, 0.02)
    rows = layer_table(G, torch.randn(2, 100))
    assert [r["shape"] for r in rows if r["type"] == "ConvTranspose2d"] == [(128, 7, 7), (64, 14, 14), (32, 28, 28), (1, 28, 28)]
    assert sum(r["params"] for r in rows) == g
    # notebook 03's D: one extra 3x3 layer at 14x14 (32 x 32 x 9 weights + 32 biases), same output
    D3 = DCGANDiscriminator(ndf=32, extra_layers=1)
    assert count_parameters(D3) == d + 32 * 32 * 9 + 32 and D3(x).shape == (3,)
    rows = layer_table(D3, x)
    assert [r["shape"] for r in rows if r["type"] == "Conv2d"] == [(32, 14, 14), (32, 14, 14), (64, 7, 7), (1, 1, 1)]


def test_conditional_dcgan_uses_labels_and_validates_them():
    from helpers.models import DCGANDiscriminator, DCGANGenerator

    G, D = DCGANGenerator(nz=8, ngf=4, num_classes=10), DCGANDiscriminator(ndf=4, num_classes=10)
    z, labels = torch.randn(4, 8), torch.tensor([0, 1, 2, 3])
    x = G(z, labels)
    assert x.shape == (4, 1, 28, 28) and D(x, labels).shape == (4,)
    G.eval()
    assert not torch.allclose(G(z, labels), G(z, (labels + 1) % 10))   # the label changes the image
    assert G.sample(10, labels=7, seed=0).shape == (10, 1, 28, 28)
    with pytest.raises(helpers.CourseError, match="0-9"):
        G.sample(2, labels=[3, 10])
    with pytest.raises(helpers.CourseError, match="2 labels for 3 samples"):
        G.sample(3, labels=[1, 2])
    with pytest.raises(helpers.CourseError, match="needs labels"):
        G.sample(3)
