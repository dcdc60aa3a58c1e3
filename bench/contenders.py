"""The models the benchmarks train: each notebook's own players, step and settings, and its digit bar.

The players, steps and settings are the notebooks' saved cells (``helpers.lessons``: 01_vanilla_gan's MLP GAN,
03_dcgan's two saved models: one bump per cluster, ``dcgan_clusters``, and its main run's plain DCGAN, ``dcgan``;
04_conditional_gan's cGAN), so
what is benchmarked is what the notebooks run; their mode-dependent settings follow ``GAN_COURSE_MODE``
(``make bench``: standard). ``REFERENCE`` is the PyTorch examples' DCGAN (github.com/pytorch/examples,
``dcgan/main.py``) at 28x28, the plain baseline notebook 03 compares its settings with; it exists only here.

``contender.build()`` returns fresh, seeded ``Players``: ``step(real, labels)`` for ``helpers.train`` or a
bare loop, the averaged generator and fixed noise for the dashboard, and ``measure()``, which samples the
generator the notebook samples and says whether the notebook's digit bar is met.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import torch
from scipy.cluster.vq import kmeans2
from torch import nn

import helpers
from helpers.lessons import conditional_gan, dcgan, vanilla_gan
from helpers.digit_classifier import classifier, predict

BETAS = (0.5, 0.999)   # the PyTorch example's Adam betas (the reference below)


@dataclass
class Score:
    met: bool        # the digit bar is met
    value: float     # the headline number the bar is about (confident share, or label match)
    text: str        # one line for the table


@dataclass
class Players:
    step: Callable
    G: nn.Module                     # the generator that is sampled (the averaged one where the notebook has it)
    measure: Callable[[], Score]
    fixed_z: torch.Tensor | None = None
    fixed_labels: torch.Tensor | None = None
    data: helpers.Split | None = None         # the training split when it is not MNIST's (notebook 03's clusters)


@dataclass
class Contender:
    key: str
    title: str
    notebook: str
    batch: int
    bar: str                                  # the digit bar, in words
    build: Callable[[], Players]
    max_steps: int | None = None              # the notebook's schedule ends here (no point training on)
    bench_steps: int = 300                    # steps per throughput run
    loop: str = "course"                      # time to bar: "course" (helpers.train) or "bare"
    notes: list[str] = field(default_factory=list)


def _quality_score(x01, confident, min_class) -> Score:
    q = helpers.quality(x01)
    return Score(q.meets(confident=confident, min_class=min_class), q.confident,
                 f"{q.confident:.1%} confident, rarest class {q.min_class:.1%}, FD {q.fd:.1f}")


def _fixed_z(lesson, n=64):
    return torch.randn(n, lesson.NZ, generator=torch.Generator().manual_seed(1)).to(lesson.dev)   # as each notebook draws it


# --------------------------------------------------------------------------- notebook 01: MLP GAN
def _mlp() -> Players:
    nb = vanilla_gan
    G, D, opt_G, opt_D = nb.make_players(seed=0)
    ema = helpers.EMA(G, decay=nb.EMA_DECAY)
    step = nb.make_step(G, D, opt_G, opt_D, ema=ema)
    return Players(step, ema.model, lambda: _quality_score(ema.model.sample(nb.N_EVAL, seed=1), 0.75, 0.04),
                   fixed_z=_fixed_z(nb))


MLP = Contender("mlp", "MLP GAN", "01_vanilla_gan", batch=vanilla_gan.BATCH,
                bar="≥ 75% confident, every class ≥ 4% (about what notebook 01 reaches; its check asks 65% and 3%)", build=_mlp, max_steps=vanilla_gan.STEPS,
                bench_steps=1000, notes=[f"learning rate decays to 0 at step {vanilla_gan.STEPS:,}, so the run stops there"])


# --------------------------------------------------------------------------- notebook 03: DCGAN
def _dcgan_plain() -> Players:
    """Notebook 03's main run (checkpoint ``dcgan``): z ~ N(0, I)."""
    nb = dcgan
    G, D, opt_G, opt_D = nb.make_players()
    ema = helpers.EMA(G, decay=nb.EMA_DECAY, warmup=True)
    step = nb.make_step(G, D, opt_G, opt_D, ema)
    return Players(step, ema.model, lambda: _quality_score(ema.model.sample(nb.N_EVAL, seed=1), 0.85, 0.06),
                   fixed_z=_fixed_z(nb))


def _dcgan_clusters() -> Players:
    """Notebook 03's clustered model (checkpoint ``dcgan_clusters``): DCGAN with a prior of one bump per k-means
    cluster and a projection D."""
    nb = dcgan
    data = helpers.load_mnist(nb.dev, quiet=True)
    # notebook 03, section 5: k-means on the training digits' pixels; each digit's cluster replaces its label
    _, cluster = kmeans2(data.train.images.flatten(1).double().cpu().numpy(), nb.CLUSTERS, minit="++", seed=0)
    counts = np.bincount(cluster, minlength=nb.CLUSTERS)
    clustered = replace(data.train, labels=torch.as_tensor(cluster, dtype=torch.long).to(data.train.labels.device))
    G, D, opt_G, opt_D = nb.make_mixture_players(counts)
    ema = helpers.EMA(G, decay=nb.EMA_DECAY, warmup=True)
    eps, c = G.draw(64, torch.Generator().manual_seed(1))
    return Players(nb.make_mixture_step(G, D, opt_G, opt_D, ema), ema.model,
                   lambda: _quality_score(ema.model.sample(nb.N_EVAL, seed=1), 0.85, 0.06),
                   fixed_z=eps, fixed_labels=c, data=clustered)


DCGAN_PLAIN = Contender("dcgan_plain", "DCGAN, z ~ N(0, I)", "03_dcgan", batch=dcgan.BATCH,
                        bar="≥ 85% confident, every class ≥ 6% (notebook 03's main run asserts 60% / 4%)",
                        build=_dcgan_plain)
DCGAN = Contender("dcgan", "DCGAN, one bump per cluster", "03_dcgan", batch=dcgan.BATCH,
                  bar="≥ 85% confident, every class ≥ 6% (about what notebook 03 reaches; its check asks 82%)", build=_dcgan_clusters,
                  notes=[f"the model saved as `dcgan_clusters`: {dcgan.CLUSTERS} k-means clusters of the training digits, "
                         "a mixture prior on z and a projection D"])


# --------------------------------------------------------------------------- notebook 04: conditional GAN
def _cgan() -> Players:
    nb = conditional_gan
    G, D, opt_G, opt_D = nb.make_players()
    ema = helpers.EMA(G, decay=nb.EMA_DECAY, warmup=True)
    step = nb.make_step(G, D, opt_G, opt_D, ema)
    clf = classifier()

    def label_match() -> Score:   # notebook 04: ask for 0..9 in turn, the share read as the requested digit
        labels = torch.arange(nb.N_EVAL) % nb.CLASSES
        x = ema.model.sample(nb.N_EVAL, labels=labels, seed=1)
        match = (predict(clf, x).argmax(1).cpu() == labels).float().mean().item()
        q = _quality_score(x, 0, 0)
        return Score(match >= 0.90, match, f"{match:.1%} read as the requested digit; {q.text}")

    fixed_z = torch.randn(8, nb.NZ, generator=torch.Generator().manual_seed(1)).repeat(nb.CLASSES, 1)[:64]   # rows of 8
    return Players(step, ema.model, label_match, fixed_z=fixed_z.to(nb.dev),
                   fixed_labels=torch.arange(nb.CLASSES).repeat_interleave(8)[:64].to(nb.dev))


CGAN = Contender("cgan", "conditional GAN", "04_conditional_gan", batch=conditional_gan.BATCH,
                 bar="≥ 90% of samples read as the requested digit (notebook 04)", build=_cgan)


# --------------------------------------------------------------------------- the PyTorch examples' DCGAN
class RefG(nn.Module):
    def __init__(self, nz=dcgan.NZ, ngf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 7, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class RefD(nn.Module):
    def __init__(self, ndf=64):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 7, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1)


def _weights_init(m):   # as in the PyTorch example
    name = m.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0)


def _reference() -> Players:
    dev = helpers.device()
    torch.manual_seed(0)
    G, D = RefG().to(dev), RefD().to(dev)
    G.apply(_weights_init), D.apply(_weights_init)
    opt_G, opt_D = (torch.optim.Adam(m.parameters(), lr=2e-4, betas=BETAS) for m in (G, D))
    crit = nn.BCELoss()

    def step(real, labels):
        D.zero_grad()
        out = D(real)
        crit(out, torch.ones_like(out)).backward()
        fake = G(torch.randn(len(real), dcgan.NZ, 1, 1, device=dev))
        out = D(fake.detach())
        crit(out, torch.zeros_like(out)).backward()
        opt_D.step()
        G.zero_grad()
        out = D(fake)
        crit(out, torch.ones_like(out)).backward()
        opt_G.step()

    @torch.no_grad()
    def measure() -> Score:   # samples from the raw generator, as the example does
        G.eval()
        chunk = min(500, dcgan.N_EVAL)   # notebook 03's sample count, 500 at a time
        x = torch.cat([G(torch.randn(chunk, dcgan.NZ, 1, 1, generator=torch.Generator().manual_seed(i)).to(dev))
                       for i in range(dcgan.N_EVAL // chunk)])
        G.train()
        return _quality_score(((x + 1) / 2).cpu(), 0.85, 0.06)

    return Players(step, G, measure)


REFERENCE = Contender("reference", "DCGAN, PyTorch example (reference)", "03_dcgan", batch=64, bar=DCGAN.bar,
                      build=_reference, loop="bare",
                      notes=["64 filters, BCELoss on a sigmoid, Adam 2e-4, raw generator, bare loop"])

COURSE = {r.key: r for r in (MLP, DCGAN, CGAN)}
ALL = {**COURSE, REFERENCE.key: REFERENCE, DCGAN_PLAIN.key: DCGAN_PLAIN}   # dcgan_plain: run it with --models
