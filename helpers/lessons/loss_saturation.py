"""Generated from notebooks/02_loss_saturation.ipynb by `make lessons`; edit the notebook, not this file.

The notebook's saved cells (first line ``#@save``), in order, after the imports they use.
"""
import torch
from torch.nn import functional as F


def least_squares_losses(real_scores, fake_scores):   # D's raw scores a_r and a_f (logits, no sigmoid)
    # Exercise 2.1 · least_squares_losses (10 min): the least-squares losses of the table, D's ½(a_r - 1)² + ½ a_f² and G's ½(a_f - 1)², each term averaged over its batch; return (D's loss, G's loss).
    ### BEGIN SOLUTION
    loss_d = 0.5 * ((real_scores - 1) ** 2).mean() + 0.5 * (fake_scores ** 2).mean()
    loss_g = 0.5 * ((fake_scores - 1) ** 2).mean()
    return loss_d, loss_g
    ### END SOLUTION


def hinge_losses(real_scores, fake_scores):   # D's raw scores a_r and a_f
    # Exercise 2.2 · hinge_losses (10 min): the hinge losses of the table, D's max(0, 1 - a_r) + max(0, 1 + a_f) (use F.relu) and G's -a_f, each averaged over its batch; return (D's loss, G's loss).
    ### BEGIN SOLUTION
    loss_d = F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
    loss_g = -fake_scores.mean()
    return loss_d, loss_g
    ### END SOLUTION


def wgan_gp_critic_loss(real_scores, fake_scores, D, real, fake, lam=10.0):   # scores a_r, a_f; the critic D; the images
    # Exercise 2.3 · wgan_gp_critic_loss (20 min): the critic's loss mean(a_f) - mean(a_r) plus lam times the gradient penalty of the table, at x̂ between the detached real and fake images with one ε = torch.rand per image and the gradient kept differentiable (create_graph=True); return the loss.
    ### BEGIN SOLUTION
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1))).to(real.device)   # one ε per image, drawn on the CPU
    mix = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(mix).sum(), mix, create_graph=True)   # create_graph: the penalty trains D
    penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    return fake_scores.mean() - real_scores.mean() + lam * penalty
    ### END SOLUTION
