"""The models the benchmarks train: each notebook's players, step and settings (standard mode), and its bar.

Keep in step with the notebooks: 01_vanilla_gan (MLP GAN), 03_dcgan (DCGAN: the saved model with one bump per
cluster, and the main run's plain DCGAN), 04_conditional_gan (cGAN).
``REFERENCE`` is the PyTorch examples' DCGAN (github.com/pytorch/examples, ``dcgan/main.py``) at 28x28,
the plain baseline notebook 03 compares its recipe with.

``recipe.build(dev)`` returns fresh, seeded ``Players``: ``step(real, labels)`` for ``helpers.train`` or a
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
from helpers.meter import classifier, predict
from helpers.models import DCGANDiscriminator, DCGANGenerator, MixtureDCGANGenerator
from helpers.recipes import DCGAN as DCGAN_RECIPE
from helpers.recipes import gan_step as _gan_step   # the course's step, shared with notebook 05's fallback

N_EVAL = 2000   # samples per measurement, the notebooks' standard-mode N_EVAL
BETAS = (0.5, 0.999)


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
class Recipe:
    key: str
    title: str
    notebook: str
    batch: int
    bar: str                                  # the digit bar, in words
    build: Callable[[torch.device], Players]
    max_steps: int | None = None              # the notebook's schedule ends here (no point training on)
    bench_steps: int = 300                    # steps per throughput run
    loop: str = "course"                      # time to bar: "course" (helpers.train) or "bare"
    notes: list[str] = field(default_factory=list)


def _adam(*models, lr):
    return [torch.optim.Adam(m.parameters(), lr=lr, betas=BETAS) for m in models]


def _quality_score(x01, confident, min_class) -> Score:
    q = helpers.quality(x01)
    return Score(q.meets(confident=confident, min_class=min_class), q.confident,
                 f"{q.confident:.1%} confident, rarest class {q.min_class:.1%}, FD {q.fd:.1f}")


# --------------------------------------------------------------------------- notebook 01: MLP GAN
MLP_STEPS, MLP_NZ = 10_000, 64


def _mlp(dev) -> Players:
    helpers.seed_everything(0)
    G = helpers.MLPGenerator(nz=MLP_NZ, hidden=(256, 512, 1024)).to(dev)
    D = helpers.MLPDiscriminator(hidden=(512, 256), dropout=0.15).to(dev)
    opt_G, opt_D = _adam(G, D, lr=1e-3)
    # constant learning rate for the first half of the run, then linearly down to 0 (notebook 01)
    schedules = [torch.optim.lr_scheduler.LambdaLR(o, lambda s: min(1.0, 2 * (1 - s / MLP_STEPS))) for o in (opt_G, opt_D)]
    ema = helpers.EMA(G, decay=0.999)
    step = _gan_step(G, D, opt_G, opt_D, MLP_NZ, dev, ema=ema, schedules=schedules, grad_norm=True)
    return Players(step, ema.model, lambda: _quality_score(ema.model.sample(N_EVAL, seed=1), 0.75, 0.04),
                   fixed_z=torch.randn(64, MLP_NZ, generator=torch.Generator().manual_seed(1)).to(dev))


MLP = Recipe("mlp", "MLP GAN", "01_vanilla_gan", batch=128, bar="≥ 75% confident, every class ≥ 4% (notebooks 01, 02)",
             build=_mlp, max_steps=MLP_STEPS, bench_steps=1000,
             notes=["learning rate decays to 0 at step 10,000, so the run stops there"])


# --------------------------------------------------------------------------- notebooks 03 and 04: DCGAN, cGAN
NZ, WIDTH, CLASSES = DCGAN_RECIPE["nz"], DCGAN_RECIPE["ngf"], 10   # notebook 03's recipe, reused by notebook 04


def _dcgan(dev, conditional=False) -> Players:
    helpers.seed_everything(0)
    classes = CLASSES if conditional else 0
    G = DCGANGenerator(nz=NZ, ngf=WIDTH, num_classes=classes).to(dev)
    # notebook 04 keeps the plain D: notebook 03's extra 3x3 layer is for the unconditional model
    D = DCGANDiscriminator(ndf=DCGAN_RECIPE["ndf"], num_classes=classes,
                           extra_layers=0 if conditional else DCGAN_RECIPE["extra_layers"]).to(dev)
    opt_G, opt_D = _adam(G, D, lr=DCGAN_RECIPE["lr"])
    ema = helpers.EMA(G, decay=0.999, warmup=True)
    step = _gan_step(G, D, opt_G, opt_D, NZ, dev, ema=ema, y_dim=classes)
    if not conditional:
        return Players(step, ema.model, lambda: _quality_score(ema.model.sample(N_EVAL, seed=1), 0.85, 0.06),
                       fixed_z=torch.randn(64, NZ, generator=torch.Generator().manual_seed(1)).to(dev))
    clf = classifier()

    def label_match() -> Score:   # notebook 04: ask for 0..9 in turn, the share read as the requested digit
        labels = torch.arange(N_EVAL) % CLASSES
        x = ema.model.sample(N_EVAL, labels=labels, seed=1)
        match = (predict(clf, x).argmax(1).cpu() == labels).float().mean().item()
        q = _quality_score(x, 0, 0)
        return Score(match >= 0.90, match, f"{match:.1%} read as the requested digit; {q.text}")

    fixed_z = torch.randn(8, NZ, generator=torch.Generator().manual_seed(1)).repeat(CLASSES, 1)[:64]   # rows of 8
    return Players(step, ema.model, label_match, fixed_z=fixed_z.to(dev),
                   fixed_labels=torch.arange(CLASSES).repeat_interleave(8)[:64].to(dev))


DCGAN_PLAIN = Recipe("dcgan_plain", "DCGAN, z ~ N(0, I)", "03_dcgan", batch=64,
                     bar="≥ 85% confident, every class ≥ 6% (notebook 03's main run asserts 60% / 6%)", build=_dcgan)


def _dcgan_clusters(dev) -> Players:
    """Notebook 03's saved model: DCGAN with a prior of one bump per k-means cluster and a projection D."""
    data = helpers.load_mnist(dev, quiet=True)
    k = DCGAN_RECIPE["clusters"]
    _, cluster = kmeans2(data.train.images.flatten(1).double().cpu().numpy(), k, minit="++", seed=0)
    helpers.seed_everything(0)
    G = MixtureDCGANGenerator(nz=NZ, ngf=WIDTH, components=k).to(dev)
    G.set_weights(np.bincount(cluster, minlength=k))
    D = DCGANDiscriminator(ndf=DCGAN_RECIPE["ndf"], extra_layers=DCGAN_RECIPE["extra_layers"], num_classes=k,
                           projection=True).to(dev)
    opt_G, opt_D = _adam(G, D, lr=DCGAN_RECIPE["lr"])
    ema = helpers.EMA(G, decay=0.999, warmup=True)
    eps, c = G.draw(64, torch.Generator().manual_seed(1))
    clustered = replace(data.train, labels=torch.as_tensor(cluster, dtype=torch.long).to(data.train.labels.device))
    return Players(_gan_step(G, D, opt_G, opt_D, NZ, dev, ema=ema), ema.model,
                   lambda: _quality_score(ema.model.sample(N_EVAL, seed=1), 0.85, 0.06),
                   fixed_z=eps, fixed_labels=c, data=clustered)


DCGAN = Recipe("dcgan", "DCGAN, one bump per cluster", "03_dcgan", batch=64,
               bar="≥ 85% confident, every class ≥ 6% (notebook 03)", build=_dcgan_clusters,
               notes=[f"the saved model: {DCGAN_RECIPE['clusters']} k-means clusters of the training digits, "
                      "a mixture prior on z and a projection D"])
CGAN = Recipe("cgan", "conditional GAN", "04_conditional_gan", batch=64,
              bar="≥ 90% of samples read as the requested digit (notebook 04)",
              build=lambda dev: _dcgan(dev, conditional=True))


# --------------------------------------------------------------------------- the PyTorch examples' DCGAN
class RefG(nn.Module):
    def __init__(self, nz=NZ, ngf=64):
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


def _reference(dev) -> Players:
    torch.manual_seed(0)
    G, D = RefG().to(dev), RefD().to(dev)
    G.apply(_weights_init), D.apply(_weights_init)
    opt_G, opt_D = (torch.optim.Adam(m.parameters(), lr=2e-4, betas=BETAS) for m in (G, D))
    crit = nn.BCELoss()

    def step(real, labels):
        D.zero_grad()
        out = D(real)
        crit(out, torch.ones_like(out)).backward()
        fake = G(torch.randn(len(real), NZ, 1, 1, device=dev))
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
        x = torch.cat([G(torch.randn(500, NZ, 1, 1, generator=torch.Generator().manual_seed(i)).to(dev))
                       for i in range(N_EVAL // 500)])
        G.train()
        return _quality_score(((x + 1) / 2).cpu(), 0.85, 0.06)

    return Players(step, G, measure)


REFERENCE = Recipe("reference", "DCGAN, PyTorch example (reference)", "03_dcgan", batch=64, bar=DCGAN.bar,
                   build=_reference, loop="bare",
                   notes=["64 filters, BCELoss on a sigmoid, Adam 2e-4, raw generator, bare loop"])

COURSE = {r.key: r for r in (MLP, DCGAN, CGAN)}
ALL = {**COURSE, REFERENCE.key: REFERENCE, DCGAN_PLAIN.key: DCGAN_PLAIN}   # dcgan_plain: run it with --models
