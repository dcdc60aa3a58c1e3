"""Generated from notebooks/06_evaluation.ipynb by `make lessons`; edit the notebook, not this file.

The notebook's saved cells (first line ``#@save``), in order, after the imports they use.
"""
import numpy as np
import torch


def memorization(x, train, held, quantile=0.05):   # images: x samples, train training digits, held held-out digits
    # Exercise 6.1 · memorization (15 min): the pixel distance from each sample and each held-out digit to its nearest training digit; return the share of samples closer than the held-out digits' quantile, and the median distance of the samples over that of the held-out digits, as two floats
    ### BEGIN SOLUTION
    def nearest(a):   # pixel (L2) distance from each image of a to its nearest image of train
        return torch.cdist(a.flatten(1).double(), train.flatten(1).double()).min(1).values
    dx, dh = nearest(x), nearest(held)
    return float((dx < torch.quantile(dh, quantile)).double().mean()), float(dx.median() / dh.median())
    ### END SOLUTION


def frechet(fx, fr):   # x: samples, r: real digits, features (M, d) and (N, d); as in the equation
    # Exercise 6.2 · frechet (15 min): the FD of the equation as a float: the means and covariances of both sets, and tr((Σx Σr)^1/2) from the eigenvalues of the product
    ### BEGIN SOLUTION
    fx, fr = fx.double().numpy(), fr.double().numpy()
    mu_x, mu_r = fx.mean(0), fr.mean(0)
    cov_x, cov_r = np.cov(fx, rowvar=False), np.cov(fr, rowvar=False)
    sqrt_trace = np.sqrt(np.linalg.eigvals(cov_x @ cov_r).astype(complex)).real.sum()   # tr((Σx Σr)^1/2)
    return float(((mu_x - mu_r) ** 2).sum() + np.trace(cov_x + cov_r) - 2 * sqrt_trace)
    ### END SOLUTION


def precision_recall(fx, fr, k=3):   # x: samples, r: real digits, features (M, d) and (N, d)
    # Exercise 6.3 · precision_recall (15 min): each set's k-NN radii (distance to the k-th nearest other point of the same set), then precision (share of samples inside some real ball) and recall (share of real digits inside some sample ball), as two floats
    ### BEGIN SOLUTION
    def radii(f):   # distance from each point to its k-th nearest neighbour in the same set
        return torch.cdist(f, f).kthvalue(k + 1, dim=1).values   # k + 1: the nearest point is itself
    dist = torch.cdist(fr, fx)                                              # (real, samples)
    precision = (dist <= radii(fr)[:, None]).any(0).double().mean().item()   # sample inside some real ball
    recall = (dist <= radii(fx)[None, :]).any(1).double().mean().item()      # real digit inside some sample ball
    return precision, recall
    ### END SOLUTION
