import copy

import numpy as np
import pytest
import torch
from torch.nn import functional as F

import helpers
from helpers.models import MLPDiscriminator, MLPGenerator
from helpers.training import log_line


@pytest.fixture(scope="module")
def mnist():
    return helpers.load_mnist("cpu", source="sample", quiet=True)


def tiny_gan(seed):
    helpers.seed_everything(seed)
    G, D = MLPGenerator(nz=8, hidden=(32,)), MLPDiscriminator(hidden=(32,))
    opt_g = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.999))

    def step(real, labels):
        fake = G(torch.randn(len(real), G.nz))
        loss_d = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-D(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        return {"loss_d": loss_d, "loss_g": loss_g}

    return G, step


def run(mnist, seed, steps=25):
    G, step = tiny_gan(seed)
    return helpers.train(step, mnist.train, steps=steps, batch_size=32, G=G, fixed_z=torch.randn(4, 8),
                         generator=torch.Generator().manual_seed(seed), quiet=True)


def test_same_seed_same_history_on_cpu(mnist):
    a, b, c = run(mnist, 0), run(mnist, 0), run(mnist, 1)
    assert np.array_equal(a["loss_d"], b["loss_d"]) and np.array_equal(a["loss_g"], b["loss_g"])
    assert not np.array_equal(a["loss_d"], c["loss_d"])
    assert torch.equal(a.snapshots[25], b.snapshots[25])


def test_history_and_snapshots(mnist):
    G, step = tiny_gan(0)
    h = helpers.train(step, mnist.train, steps=10, batch_size=16, G=G, fixed_z=torch.randn(6, 8),
                      snapshot_steps=[5], quiet=True)
    assert h.steps == 10 and len(h["loss_d"]) == 10 and not h.interrupted and h.diverged is None
    assert sorted(h.snapshots) == [5, 10] and h.snapshots[5].shape == (6, 1, 28, 28)
    assert h.images_per_second > 0


def test_frozen_skips_the_weights_gradients_only():
    helpers.seed_everything(0)
    G, D = MLPGenerator(nz=8, hidden=(16,)), MLPDiscriminator(hidden=(16,))
    D.net[-1].bias.requires_grad_(False)      # a weight frozen before stays frozen after
    z = torch.randn(6, 8)

    def g_grads(freeze):
        G.zero_grad(); D.zero_grad()
        if freeze:
            with helpers.frozen(D):
                score = D(G(z))
        else:
            score = D(G(z))
        F.softplus(-score).mean().backward()
        return [p.grad.clone() for p in G.parameters()], [p.grad for p in D.parameters()]

    g_plain, d_plain = g_grads(False)
    g_frozen, d_frozen = g_grads(True)
    assert all(torch.equal(a, b) for a, b in zip(g_plain, g_frozen))     # G's update is exactly the same
    assert any(g is not None for g in d_plain) and all(g is None for g in d_frozen)
    assert [p.requires_grad for p in D.parameters()][-1] is False
    assert all(p.requires_grad for p in list(D.parameters())[:-1])
    with pytest.raises(RuntimeError), helpers.frozen(D):      # restored also when the block raises
        raise RuntimeError("boom")
    assert all(p.requires_grad for p in list(D.parameters())[:-1])


def test_log_line_format():
    line = log_line(3, 25, 17, 62, {"loss_d": 0.5, "loss_g": 2.25, "d_x": 0.8, "d_g_z1": 0.2, "d_g_z2": 0.1})
    assert line == "[3/25][17/62]  Loss_D: 0.5000  Loss_G: 2.2500  D(x): 0.8000  D(G(z)): 0.2000 / 0.1000"


def test_nan_stops_with_one_sentence(mnist, capsys):
    calls = []

    def step(real, labels):
        calls.append(1)
        return {"loss_d": float("nan") if len(calls) == 4 else 1.0, "loss_g": 1.0}

    h = helpers.train(step, mnist.train, steps=50, batch_size=8, quiet=True, dashboard=False)
    assert h.steps == 4 and "diverged at step 4" in h.diverged and "learning rate" in h.diverged
    assert "Warning: Training diverged" in capsys.readouterr().out


@pytest.mark.parametrize("policy,steps", [("stop", 20), ("warn", 60)])
def test_discriminator_winning_outright(mnist, policy, steps):
    step = lambda real, labels: {"loss_d": 0.0001, "loss_g": 9.0}  # noqa: E731
    h = helpers.train(step, mnist.train, steps=60, batch_size=8, d_wins_patience=20, on_divergence=policy,
                      quiet=True, dashboard=False)
    assert h.steps == steps and "discriminator wins outright" in h.diverged


def test_interrupt_keeps_what_was_learned(mnist, capsys):
    G, inner = tiny_gan(0)
    before = copy.deepcopy(G.state_dict())
    calls = []

    def step(real, labels):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return inner(real, labels)

    h = helpers.train(step, mnist.train, steps=100, batch_size=16, G=G, fixed_z=torch.randn(4, 8), quiet=True)
    assert h.interrupted and h.steps == 5 and len(h["loss_g"]) == 5 and 5 in h.snapshots
    assert any(not torch.equal(before[k], v) for k, v in G.state_dict().items())
    assert "Interrupted after 5 steps" in capsys.readouterr().out


def test_bad_arguments(mnist):
    with pytest.raises(helpers.CourseError, match="steps must be"):
        helpers.train(lambda r, l: {}, mnist.train, steps=0)
    with pytest.raises(helpers.CourseError, match="both G and fixed_z"):
        helpers.train(lambda r, l: {}, mnist.train, steps=1, G=MLPGenerator(nz=8, hidden=(8,)))


def test_dashboard_renders_png(mnist):
    from helpers.training import Dashboard, fixed_noise_sampler

    G, step = tiny_gan(0)
    h = helpers.train(step, mnist.train, steps=5, batch_size=16, quiet=True, dashboard=False)
    board = Dashboard("t", fixed_noise_sampler(G, torch.randn(8, 8)))
    png = board.render(h)
    board.close()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_dashboard_leaves_pyplot_alone():
    # A dashboard must not register figures with pyplot or change its interactive state: either would
    # hide (or duplicate) the figures a notebook cell draws after training.
    import matplotlib
    import matplotlib.pyplot as plt

    from helpers.training import Dashboard, History

    before, interactive = plt.get_fignums(), matplotlib.is_interactive()
    board = Dashboard("t", sampler=lambda: torch.zeros(4, 1, 28, 28))
    h = History(records={"loss_d": [1.0, 0.9], "loss_g": [0.7, 0.8], "d_x": [0.6, 0.6], "d_g_z1": [0.4, 0.4]}, steps=2)
    png = board.render(h)
    assert png[:4] == b"\x89PNG"
    assert plt.get_fignums() == before and matplotlib.is_interactive() == interactive
    board.close()
