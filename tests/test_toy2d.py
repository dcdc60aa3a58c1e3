"""helpers.toy2d: targets, coverage metric, toy models and training, the Dirac GAN, and the one picture."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from helpers import CourseError, losses, toy2d
from helpers.toy2d import ToyGAN, coverage


# --------------------------------------------------------------------------- targets
@pytest.mark.parametrize("name", list(toy2d.TARGETS))
def test_targets_sample_points_in_the_view(name):
    pts = toy2d.sample_target(name, 500, torch.Generator().manual_seed(0))
    assert pts.shape == (500, 2) and pts.dtype == torch.float32
    assert pts.abs().max() < toy2d.LIMIT
    # the same generator seed gives the same points
    again = toy2d.sample_target(name, 500, torch.Generator().manual_seed(0))
    assert torch.equal(pts, again)
    # samples of the target itself cover every region
    cov = coverage(toy2d.sample_target(name, 4000, torch.Generator().manual_seed(1)), name)
    assert cov.covered == cov.regions and cov.on_target > 0.97


def test_ring_has_eight_modes_on_a_circle_of_radius_two():
    t = toy2d.get_target("ring of 8 Gaussians")
    assert t.num_regions == 8 and t.mixture
    assert torch.allclose(t.skeleton.norm(dim=1), torch.full((8,), 2.0))


def test_unknown_target_is_refused():
    with pytest.raises(CourseError, match="Unknown target 'spiral'"):
        toy2d.get_target("spiral")


# --------------------------------------------------------------------------- coverage
def ring_centres():
    return toy2d.get_target("ring of 8 Gaussians").skeleton


def test_coverage_of_points_on_every_mode():
    pts = ring_centres().repeat(10, 1)  # 80 points, 10 on each centre
    cov = coverage(pts, "ring of 8 Gaussians")
    assert (cov.covered, cov.regions, cov.on_target, cov.counts, cov.n) == (8, 8, 1.0, [10] * 8, 80)
    assert str(cov) == "8/8 modes covered, 100% of points on target"


def test_coverage_of_a_collapsed_generator():
    pts = ring_centres()[3].repeat(100, 1) + 0.01 * torch.randn(100, 2)
    cov = coverage(pts, "ring of 8 Gaussians")
    assert cov.covered == 1 and cov.counts[3] == 100 and cov.on_target == 1.0


def test_points_between_modes_are_off_target():
    pts = torch.zeros(50, 2)  # the centre of the ring
    cov = coverage(pts, "ring of 8 Gaussians")
    assert cov.covered == 0 and cov.on_target == 0.0
    # just inside / outside 3 noise stds (0.3) of a centre
    centre = ring_centres()[0]
    inside = coverage((centre + torch.tensor([0.29, 0.0])).repeat(4, 1), "ring of 8 Gaussians")
    outside = coverage((centre + torch.tensor([0.31, 0.0])).repeat(4, 1), "ring of 8 Gaussians")
    assert inside.on_target == 1.0 and outside.on_target == 0.0


def test_a_mode_needs_a_fifth_of_its_fair_share():
    centres = ring_centres()
    # 8 modes, 400 points: fair share 50, threshold 10; mode 7 gets 9 points, the others 391 between them
    pts = torch.cat([centres[:7].repeat(56, 1)[:391], centres[7].repeat(9, 1)])
    assert coverage(pts, "ring of 8 Gaussians").covered == 7
    pts = torch.cat([centres[:7].repeat(56, 1)[:390], centres[7].repeat(10, 1)])
    assert coverage(pts, "ring of 8 Gaussians").covered == 8


def test_coverage_of_a_curve_by_regions():
    t = toy2d.get_target("line")
    first_half = t.skeleton[: len(t.skeleton) // 2]
    cov = coverage(first_half, t)
    assert cov.covered == 4 and cov.regions == 8 and cov.on_target == 1.0


def test_coverage_needs_points():
    with pytest.raises(CourseError):
        coverage(torch.zeros(0, 2), "line")


# --------------------------------------------------------------------------- models and training
def test_model_shapes():
    G, D = toy2d.ToyGenerator(nz=3, hidden=16, depth=2), toy2d.ToyDiscriminator(hidden=16, depth=2)
    x = G(torch.randn(7, 3))
    assert x.shape == (7, 2) and D(x).shape == (7,)


@pytest.mark.parametrize("loss", list(losses.LOSSES))
def test_every_loss_trains_and_records(loss):
    gan = ToyGAN("two moons", loss, d_steps=2, batch_size=32, seed=3)
    out = gan.step()
    assert set(out) == {"loss_d", "loss_g", "d_real", "d_fake", "g_grad_norm"}
    gan.train(4)
    assert gan.steps == 5 and all(len(v) == 5 for v in gan.history.values())
    assert all(math.isfinite(v) for vals in gan.history.values() for v in vals)
    assert gan.fakes(10).shape == (10, 2)


def test_same_seed_same_run():
    a = ToyGAN(seed=5).train(20)
    b = ToyGAN(seed=5).train(20)
    assert a.history == b.history
    assert torch.equal(a.fakes(50), b.fakes(50))
    a.reset()
    assert a.steps == 0 and not a.history
    assert torch.equal(a.train(20).fakes(50), b.fakes(50))


def test_freezing_one_player():
    gan = ToyGAN(seed=0)
    g_before = [p.clone() for p in gan.G.parameters()]
    gan.train(5, train_g=False)
    assert all(torch.equal(p, q) for p, q in zip(g_before, gan.G.parameters()))
    d_before = [p.clone() for p in gan.D.parameters()]
    gan.train(5, train_d=False)
    assert all(torch.equal(p, q) for p, q in zip(d_before, gan.D.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(g_before, gan.G.parameters()))


def test_saturating_gradient_vanishes_against_a_strong_discriminator():
    gan = ToyGAN("ring of 8 Gaussians", "saturating", seed=0)
    gan.train(150, train_g=False)  # D learns to reject G's initial points
    sat, nonsat = gan.g_gradient_norm(loss="saturating"), gan.g_gradient_norm(loss="non-saturating")
    assert sat < nonsat / 50
    # arrows: the same ordering point by point
    pts = gan.fakes(20)
    gan_ns = ToyGAN("ring of 8 Gaussians", "non-saturating", seed=0)
    gan_ns.D.load_state_dict(gan.D.state_dict())
    assert gan.point_gradients(pts).norm(dim=1).max() < gan_ns.point_gradients(pts).norm(dim=1).min()


def test_bad_settings_are_refused():
    with pytest.raises(CourseError, match="learning rate must be a positive number"):
        ToyGAN(lr_d=0)
    with pytest.raises(CourseError, match="whole number of at least 1"):
        ToyGAN(d_steps=0)
    with pytest.raises(CourseError, match="optimizer"):
        ToyGAN(optimizer="rmsprop")
    with pytest.raises(CourseError, match="Unknown loss"):
        ToyGAN(loss="bce")


# --------------------------------------------------------------------------- Dirac GAN
def test_dirac_gan_circles_without_penalty_and_converges_with_it():
    dist = lambda p: np.hypot(p[:, 0], p[:, 1])  # noqa: E731
    free = dist(toy2d.dirac_gan(2000, theta=0.1, psi=0.1))
    penalised = dist(toy2d.dirac_gan(2000, theta=0.1, psi=0.1, gamma=0.5))
    assert free[-1] > 2 * free[0]  # simultaneous steps spiral away from the equilibrium
    assert penalised[-1] < 1e-4
    with pytest.raises(CourseError):
        toy2d.dirac_gan(10, mode="random")


# --------------------------------------------------------------------------- the picture
def test_plot_state_draws_the_field_points_and_arrows():
    from matplotlib.figure import Figure

    gan = ToyGAN(seed=0).train(5)
    fig = Figure()
    ax, cax = fig.add_axes([0.05, 0.05, 0.7, 0.9]), fig.add_axes([0.8, 0.05, 0.05, 0.9])
    img = toy2d.plot_state(ax, gan, "title", n=50, arrows=10, grid=16, colorbar=cax, legend=True)
    assert img.get_array().shape == (16, 16) and ax.get_title() == "title"
    assert [len(c.get_offsets()) for c in ax.collections] == [50, 50, 10]   # real, fake, arrows
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["real", "fake (G)"]
    assert cax.get_ylabel() == "D(x): probability 'real'"
    ax.clear(), cax.clear()   # drawn again in place, as the lab does
    toy2d.plot_state(ax, gan, n=50, arrows=0, grid=16, colorbar=cax)
    assert len(ax.collections) == 2 and len(fig.axes) == 2
