import pytest
import torch

import helpers
from helpers.config import CourseError
from helpers.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, count_parameters


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


def test_images_of_given_z_match_sample_and_the_training_grid():
    from helpers.models import DCGANGenerator
    from helpers.training import fixed_noise_sampler

    G = DCGANGenerator(nz=8, ngf=8, num_classes=10)          # conditional, with BatchNorm: eval mode matters
    z, labels = G.noise(5, seed=3), torch.tensor([0, 1, 2, 3, 8])
    x = G.images(z, labels)
    assert x.shape == (5, 1, 28, 28) and not x.requires_grad and 0 <= x.min() and x.max() <= 1
    assert torch.equal(x, G.sample(5, labels=labels, seed=3))
    assert torch.equal(x, fixed_noise_sampler(G, z, labels)())
    assert torch.allclose(x, G.images(z, labels, chunk=2), atol=1e-6)   # chunked as sample() does for large n
    assert G.training


@pytest.mark.parametrize("n", [0, -2, 2.5, "3"])
def test_sample_rejects_bad_counts(n):
    with pytest.raises(CourseError, match="positive whole number"):
        MLPGenerator(nz=8, hidden=(16,)).sample(n)


def test_unconditional_model_refuses_labels():
    with pytest.raises(CourseError, match="unconditional"):
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
    with pytest.raises(CourseError, match="0-9"):
        G.sample(2, labels=[3, 10])
    with pytest.raises(CourseError, match="2 labels for 3 samples"):
        G.sample(3, labels=[1, 2])
    with pytest.raises(CourseError, match="needs labels"):
        G.sample(3)


def test_projection_discriminator_by_hand():
    from helpers.models import DCGANDiscriminator

    torch.manual_seed(0)
    D = DCGANDiscriminator(ndf=4, num_classes=5, extra_layers=1, projection=True).eval()
    plain = DCGANDiscriminator(ndf=4, extra_layers=1)
    # the image is the only input channel; one learned vector of 2 ndf x 7 x 7 numbers per label
    assert count_parameters(D) == count_parameters(plain) + 5 * 8 * 49
    x, labels = torch.randn(3, 1, 28, 28), torch.tensor([0, 4, 4])
    h = D.net[:-1](x).flatten(1)
    expected = D.net[-1](D.net[:-1](x)).flatten() + (D.embed.weight[labels] * h).sum(1)
    assert torch.allclose(D(x, labels), expected)
    with torch.no_grad():
        D.embed.weight[4] += 1.0                      # only the rows of label 4 change
    out = D(x, labels)
    assert torch.allclose(out[0], expected[0]) and not torch.allclose(out[1:], expected[1:])
    with pytest.raises(CourseError, match="needs num_classes"):
        DCGANDiscriminator(projection=True)
    with pytest.raises(CourseError, match="needs labels"):
        D(x)


def test_mixture_generator_prior_and_api():
    from helpers.models import DCGANGenerator, MixtureDCGANGenerator

    G = MixtureDCGANGenerator(nz=16, ngf=4, components=4, scale=3.0)
    plain = DCGANGenerator(nz=16, ngf=4)
    assert count_parameters(G) == count_parameters(plain) + 4 * 16   # DCGAN's network plus the means
    m = G.means.detach()
    assert torch.allclose(m @ m.T, 9.0 * torch.eye(4), atol=1e-5)     # orthogonal, distance 3 from 0
    G.set_weights([0, 1, 0, 3])
    assert torch.allclose(G.weights, torch.tensor([0.0, 0.25, 0.0, 0.75]))
    eps, c = G.draw(4000, torch.Generator().manual_seed(0))
    assert eps.shape == (4000, 16) and set(c.tolist()) == {1, 3}
    assert abs((c == 3).float().mean().item() - 0.75) < 0.03
    z = G.noise(4000, seed=0)                                          # the same draw, means added
    assert torch.allclose(z, eps + m[c]) and not z.requires_grad
    G.eval()
    assert torch.allclose(G(eps[:5], c[:5]), G(z[:5]), atol=1e-6)     # G(eps, c) = G(mu_c + eps)
    x = G.sample(6, seed=1)
    assert x.shape == (6, 1, 28, 28) and torch.equal(x, G.sample(6, seed=1))
    with pytest.raises(CourseError, match="unconditional"):
        G.sample(2, labels=[1, 2])
    with pytest.raises(CourseError, match="4 non-negative counts"):
        G.set_weights([1, 2, 3])
    with pytest.raises(CourseError, match="not all 0"):
        G.set_weights([0, 0, 0, 0])
    with pytest.raises(CourseError, match="from 2 to nz=16"):
        MixtureDCGANGenerator(nz=16, components=17)


def test_mixture_generator_learns_its_means():
    from helpers.models import MixtureDCGANGenerator

    G = MixtureDCGANGenerator(nz=8, ngf=4, components=3)
    eps, c = G.draw(5)
    G(eps, c).mean().backward()
    assert G.means.grad is not None and G.means.grad[c].abs().sum() > 0


# Mixed precision (helpers.models.mixed_precision): bfloat16 products where GAN_COURSE_PRECISION says so, float32 in and out.

def _players(kind):
    torch.manual_seed(0)
    if kind == "mlp":
        return MLPGenerator(nz=8, hidden=(16, 32)), MLPDiscriminator(hidden=(32, 16))
    return DCGANGenerator(nz=8, ngf=4), DCGANDiscriminator(ndf=4, extra_layers=1)


@pytest.mark.parametrize("kind", ["mlp", "dcgan"])
def test_bfloat16_models_take_and_give_float32(kind):
    from helpers.config import using_precision
    G, D = _players(kind)
    z = torch.randn(5, 8)
    with using_precision("fp32"):
        x32, s32 = G(z), D(G(z))
    with using_precision("bf16"):
        x16, s16 = G(z), D(G(z))
        loss = s16.mean()
    loss.backward()
    assert x16.dtype == s16.dtype == torch.float32 and x16.shape == x32.shape and s16.shape == s32.shape
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in G.parameters())
    assert all(p.dtype == torch.float32 for p in G.parameters())
    # the same network: bfloat16 keeps about 3 significant digits of each product
    assert (x16 - x32).abs().max() < 0.05 and not torch.equal(x16, x32)
    assert not torch.is_autocast_enabled("cpu")


def test_float32_is_exactly_the_plain_network():
    from helpers.config import using_precision
    G, _ = _players("dcgan")
    z = torch.randn(5, 8)
    with using_precision("fp32"):
        out = G(z)
    with torch.no_grad():
        plain = G.net(z[:, :, None, None])
    assert torch.equal(out.detach(), plain)
    assert all(p.is_contiguous() for p in G.parameters())   # channels-last is for bfloat16 only


def test_bfloat16_convolutions_go_channels_last_and_the_average_follows():
    from helpers.config import using_precision
    G, D = _players("dcgan")
    ema = helpers.EMA(G, decay=0.9)
    with using_precision("bf16"):
        D(G(torch.randn(4, 8))).sum().backward()
    weight = G.net[0].weight
    assert weight.is_contiguous(memory_format=torch.channels_last)
    ema.update(G)
    assert ema.model.net[0].weight.stride() == weight.stride()
    # D's first weight (1 -> ndf channels) is channels-last and contiguous at once; its other layers must follow too
    assert D.net[0].weight.is_contiguous() and D.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in D.parameters() if p.dim() == 4)
    assert not D.net[2].weight.is_contiguous()


def test_an_error_inside_forward_leaves_autocast_off():
    from helpers.config import using_precision
    G = DCGANGenerator(nz=8, ngf=4, num_classes=10)
    with using_precision("bf16"), pytest.raises(CourseError, match="needs labels"):
        G(torch.randn(2, 8))
    assert not torch.is_autocast_enabled("cpu")
    assert G._autocast_stack == []


def test_bfloat16_runs_repeat_exactly():
    from helpers.config import using_precision
    outs = []
    for _ in range(2):
        G, D = _players("dcgan")
        opt = torch.optim.Adam(G.parameters(), lr=1e-3)
        with using_precision("bf16"):
            for _ in range(3):
                opt.zero_grad()
                D(G(torch.randn(6, 8, generator=torch.Generator().manual_seed(1)))).mean().backward()
                opt.step()
            outs.append(G(torch.randn(3, 8, generator=torch.Generator().manual_seed(2))).detach())
    assert torch.equal(outs[0], outs[1])


def test_folding_batchnorm_keeps_the_images_and_needs_eval_mode():
    torch.manual_seed(0)
    G = DCGANGenerator(nz=16, ngf=8)
    with torch.no_grad():   # running statistics that are not the identity, so folding has something to do
        G.train()(torch.randn(64, 16))
    G.eval()
    z = torch.randn(10, 16, requires_grad=True)
    with helpers.using_precision("fp32"):
        before = G(z)
        (grad_before,) = torch.autograd.grad(before.sum(), z)
        helpers.fold_batchnorm(G)
        after = G(z)
        (grad_after,) = torch.autograd.grad(after.sum(), z)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in G.modules())
    assert torch.allclose(before, after, atol=1e-5) and torch.allclose(grad_before, grad_after, atol=1e-4)
    with pytest.raises(CourseError, match="eval mode"):
        helpers.fold_batchnorm(DCGANGenerator(nz=16, ngf=8))
