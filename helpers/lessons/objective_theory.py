"""Generated from notebooks/00_objective_theory.ipynb by `make lessons`; edit the notebook, not this file.

The notebook's saved cells (first line ``#@save``), in order, after the imports they use.
"""
import numpy as np
import torch
from scipy.special import xlogy


def optimal_discriminator(p_data, p_g):
    # Exercise 0.1 · optimal_discriminator (5 min): D*(x) from the values of p_data and p_g on a grid (NumPy arrays of one shape), elementwise.
    ### BEGIN SOLUTION
    return p_data / (p_data + p_g)
    ### END SOLUTION


def js_divergence(p, q, dx):
    # Exercise 0.2 · js_divergence (10 min): JSD(p || q) in nats for two densities given on a grid of spacing dx: the mean of KL(p || m) and KL(q || m) with m = (p + q) / 2, each integral a Riemann sum; return a float (0 log 0 = 0: scipy's xlogy does that).
    ### BEGIN SOLUTION
    m = (p + q) / 2
    kl_pm = np.sum(xlogy(p, p) - xlogy(p, m)) * dx
    kl_qm = np.sum(xlogy(q, q) - xlogy(q, m)) * dx
    return float(0.5 * kl_pm + 0.5 * kl_qm)
    ### END SOLUTION


def saturating_grad(a):
    # Exercise 0.3 · saturating_grad (5 min): by hand, without autograd, d/da log(1 - sigmoid(a)) for a tensor of logits a, elementwise.
    ### BEGIN SOLUTION
    return -torch.sigmoid(a)
    ### END SOLUTION


def nonsaturating_grad(a):
    # Exercise 0.4 · nonsaturating_grad (5 min): by hand, without autograd, d/da [-log sigmoid(a)] for a tensor of logits a, elementwise.
    ### BEGIN SOLUTION
    return torch.sigmoid(a) - 1
    ### END SOLUTION
