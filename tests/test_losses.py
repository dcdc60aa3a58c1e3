"""helpers/losses.py against values computed by hand on small fixed inputs.

Notation: ``a`` is D's raw score (logit), ``D = sigmoid(a)``. Every ``d_*`` is what D minimises,
every ``g_*`` what G minimises.
"""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers import CourseError, losses

LOG2 = math.log(2.0)


def sig(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def grad_wrt_logits(fn, values):
    a = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn(a).backward()
    return a.grad


# --------------------------------------------------------------------------- BCE objective
def test_d_bce_at_zero_logits_is_two_log_two():
    # D(x) = D(G(z)) = 1/2: -log(1/2) - log(1 - 1/2) = 2 log 2
    zero = torch.zeros(4)
    assert losses.d_bce(zero, zero).item() == pytest.approx(2 * LOG2, abs=1e-6)


def test_d_bce_matches_the_formula_on_mixed_logits():
    real, fake = [2.0, -1.0], [0.5, -3.0]
    by_hand = (sum(-math.log(sig(a)) for a in real) / 2
               + sum(-math.log(1 - sig(a)) for a in fake) / 2)
    got = losses.d_bce(torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64))
    assert got.item() == pytest.approx(by_hand, rel=1e-12)


def test_d_bce_is_minus_the_minimax_value_and_equals_torch_bce():
    real = torch.tensor([1.5, -0.3, 0.7], dtype=torch.float64)
    fake = torch.tensor([-2.0, 0.1], dtype=torch.float64)
    value = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()  # V(D, G)
    assert losses.d_bce(real, fake).item() == pytest.approx(-value.item(), rel=1e-12)
    bce = nn.functional.binary_cross_entropy_with_logits
    torch_bce = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    assert losses.d_bce(real, fake).item() == pytest.approx(torch_bce.item(), rel=1e-12)


def test_d_bce_gradients_push_real_up_and_fake_down():
    real = torch.tensor([0.0, 1.0], requires_grad=True)
    fake = torch.tensor([0.0, -1.0], requires_grad=True)
    losses.d_bce(real, fake).backward()
    # d/da softplus(-a) / n = -(1 - sigmoid(a)) / n ; d/da softplus(a) / n = sigmoid(a) / n
    assert real.grad.tolist() == pytest.approx([-(1 - sig(0.0)) / 2, -(1 - sig(1.0)) / 2], rel=1e-6)
    assert fake.grad.tolist() == pytest.approx([sig(0.0) / 2, sig(-1.0) / 2], rel=1e-6)


def test_d_bce_stays_finite_for_huge_logits():
    big = torch.tensor([1e4, -1e4])
    assert torch.isfinite(losses.d_bce(big, -big))
    assert losses.d_bce(torch.tensor([1e4]), torch.tensor([-1e4])).item() == pytest.approx(0.0, abs=1e-6)
    assert losses.d_bce(torch.tensor([-50.0]), torch.tensor([50.0])).item() == pytest.approx(100.0, rel=1e-6)


# --------------------------------------------------------------------------- generator losses
@pytest.mark.parametrize("a", [-6.0, -2.0, 0.0, 1.5, 5.0])
def test_saturating_and_nonsaturating_values(a):
    t = torch.tensor([a], dtype=torch.float64)
    assert losses.g_saturating(t).item() == pytest.approx(math.log(1 - sig(a)), rel=1e-10)  # log(1 - D)
    assert losses.g_nonsaturating(t).item() == pytest.approx(-math.log(sig(a)), rel=1e-10)  # -log D


@pytest.mark.parametrize("a", [-8.0, -3.0, 0.0, 2.0, 6.0])
def test_generator_gradients_with_respect_to_the_logit(a):
    # d/da log(1 - sigmoid(a)) = -sigmoid(a)        -> 0 as D(G(z)) -> 0: the saturating loss starves G
    # d/da -log sigmoid(a)     = -(1 - sigmoid(a))  -> -1 as D(G(z)) -> 0: a strong signal where G is worst
    # Both negative: gradient descent raises the logit of fakes, i.e. makes D call them more real.
    sat = grad_wrt_logits(losses.g_saturating, [a]).item()
    nonsat = grad_wrt_logits(losses.g_nonsaturating, [a]).item()
    assert sat == pytest.approx(-sig(a), rel=1e-10)
    assert nonsat == pytest.approx(-(1 - sig(a)), rel=1e-10)
    assert sat < 0 and nonsat < 0


def test_saturation_where_d_rejects_fakes():
    sat = grad_wrt_logits(losses.g_saturating, [-8.0]).abs().item()
    nonsat = grad_wrt_logits(losses.g_nonsaturating, [-8.0]).abs().item()
    assert sat < 1e-3 and nonsat > 0.999
    # with respect to D's output p the saturating loss log(1 - p) has slope -1/(1 - p) = -1 at p = 0: not 0
    p = torch.tensor([0.0], dtype=torch.float64, requires_grad=True)
    torch.log(1 - p).sum().backward()
    assert p.grad.item() == pytest.approx(-1.0)


def test_generator_losses_average_over_the_batch():
    a = [-1.0, 0.0, 3.0]
    assert grad_wrt_logits(losses.g_nonsaturating, a).tolist() == pytest.approx([-(1 - sig(x)) / 3 for x in a])
    assert grad_wrt_logits(losses.g_saturating, a).tolist() == pytest.approx([-sig(x) / 3 for x in a])


# --------------------------------------------------------------------------- least squares, hinge, Wasserstein
def test_least_squares():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, -2.0])
    # 1/2 mean((a_r - 1)^2) + 1/2 mean(a_f^2) = 1/2 * (0 + 4)/2 + 1/2 * (0 + 4)/2 = 2
    assert losses.d_least_squares(real, fake).item() == pytest.approx(2.0)
    assert losses.d_least_squares(torch.ones(3), torch.zeros(3)).item() == 0.0
    # G: 1/2 mean((a_f - 1)^2) = 1/2 * (1 + 9)/2 = 2.5; gradient (a_f - 1)/n, growing with the distance
    assert losses.g_least_squares(fake).item() == pytest.approx(2.5)
    assert grad_wrt_logits(losses.g_least_squares, [0.0, -2.0]).tolist() == pytest.approx([-0.5, -1.5])


def test_hinge():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 1.0])
    # mean(relu(1 - a_r)) = (0 + 0.5 + 2)/3 ; mean(relu(1 + a_f)) = (0 + 1 + 2)/3
    assert losses.d_hinge(real, fake).item() == pytest.approx(2.5 / 3 + 3 / 3)
    assert losses.g_hinge(fake).item() == pytest.approx(-(-2.0 + 0.0 + 1.0) / 3)
    assert grad_wrt_logits(losses.g_hinge, [5.0, -5.0]).tolist() == pytest.approx([-0.5, -0.5])
    # beyond the margin D gets no gradient
    assert grad_wrt_logits(lambda r: losses.d_hinge(r, torch.tensor([-3.0])), [3.0]).item() == 0.0


def test_wasserstein_critic_loss():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-1.0, 0.0])
    assert losses.d_wasserstein(real, fake).item() == pytest.approx(-0.5 - 2.0)


class Linear2(nn.Module):
    """D(x) = w·x + b on flattened inputs: its input gradient is w everywhere."""

    def __init__(self, w):
        super().__init__()
        self.lin = nn.Linear(len(w), 1)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([w], dtype=torch.float32))
            self.lin.bias.fill_(0.7)

    def forward(self, x):
        return self.lin(x.flatten(1)).flatten()


@pytest.mark.parametrize("w,expected", [([3.0, 4.0], 16.0), ([0.6, 0.8], 0.0), ([0.0, 0.5], 0.25)])
def test_gradient_penalty_on_a_linear_critic(w, expected):
    # ‖∇x D‖ = ‖w‖ at every point, so the penalty is (‖w‖ - 1)^2 whatever the mixing weights
    D = Linear2(w)
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    gp = losses.gradient_penalty(D, real, fake, generator=torch.Generator().manual_seed(0))
    assert gp.item() == pytest.approx(expected, abs=1e-5)


def test_gradient_penalty_is_differentiable_in_the_critic_weights():
    D = Linear2([3.0, 4.0])
    gp = losses.gradient_penalty(D, torch.randn(5, 2), torch.randn(5, 2))
    gp.backward()
    # d/dw (‖w‖ - 1)^2 = 2 (‖w‖ - 1) w / ‖w‖ = 2 * 4 * (0.6, 0.8)
    assert D.lin.weight.grad.flatten().tolist() == pytest.approx([4.8, 6.4], rel=1e-5)


def test_gradient_penalty_on_image_shaped_inputs():
    # Flattened 1x2x2 "images": the per-sample norm runs over all pixels
    w = [1.0, 2.0, 2.0, 0.0]  # ‖w‖ = 3
    D = Linear2(w)
    gp = losses.gradient_penalty(D, torch.randn(6, 1, 2, 2), torch.randn(6, 1, 2, 2))
    assert gp.item() == pytest.approx(4.0, abs=1e-5)


def test_gradient_penalty_does_not_backpropagate_into_the_generator():
    fake = torch.randn(4, 2, requires_grad=True)
    gp = losses.gradient_penalty(Linear2([3.0, 4.0]), torch.randn(4, 2), fake)
    gp.backward()
    assert fake.grad is None


# --------------------------------------------------------------------------- the table of losses
def test_get_loss_names_and_flags():
    assert set(losses.LOSSES) == {"saturating", "non-saturating", "least-squares", "hinge", "wgan-gp"}
    assert losses.get_loss("saturating").d is losses.get_loss("non-saturating").d is losses.d_bce
    assert losses.get_loss("non-saturating").sigmoid and not losses.get_loss("least-squares").sigmoid
    assert losses.get_loss("wgan-gp").penalty == 10.0 and losses.get_loss("hinge").penalty == 0.0
    with pytest.raises(CourseError, match="Unknown loss 'bce'"):
        losses.get_loss("bce")
