"""Ready-made training runs for notebooks that need a trained generator but do not teach training.

Notebook 05 (inversion and restoration) uses the ``dcgan`` checkpoint that notebook 03 saves. When
that checkpoint is missing, :func:`generator_or_train` says so and trains a short DCGAN with notebook
03's recipe, so the notebook always runs. The training step itself is taught in notebook 03; this is
the same step, kept here as plumbing.
"""
from __future__ import annotations

import torch
from torch import nn

from . import config
from .checkpoints import load_generator, read_checkpoint
from .config import CourseError
from .data import load_mnist
from .models import DCGANDiscriminator, DCGANGenerator, Generator, MixtureDCGANGenerator
from .training import EMA, train

# Notebook 03's recipe (keep in step with notebooks/03_dcgan.ipynb; bench/recipes.py reads it). ``clusters``: the
# k-means clusters of section 5's prior (the saved model); the other settings are shared by both of its runs.
DCGAN = {"nz": 100, "ngf": 32, "ndf": 32, "extra_layers": 1, "lr": 1e-3, "betas": (0.5, 0.999), "batch": 64, "ema": 0.999,
         "clusters": 50}


def gan_step(G, D, opt_G, opt_D, nz: int, dev, *, ema: EMA, schedules=(), grad_norm: bool = False, y_dim: int = 0):
    """The course's training step (notebooks 01, 03, 04) as a ``step(real, labels)`` for :func:`helpers.train`:
    D on real (label 1) and fake (label 0), then G with the non-saturating loss, then the weight average.

    ``y_dim``: conditional (notebook 04): fakes get uniform labels and both players see them. A
    :class:`MixtureDCGANGenerator` (notebook 03's saved model) draws its bumps itself, and D sees the bump of each
    fake and the cluster of each real digit (train on a split whose labels are the clusters).
    ``grad_norm``: also record G's gradient norm; ``schedules``: learning-rate schedulers to step.
    """
    bce = nn.BCEWithLogitsLoss()
    mixture = isinstance(G, MixtureDCGANGenerator)   # notebook 03's cluster prior: ``labels`` are the k-means clusters

    def step(real, labels):
        if mixture:
            eps, y_fake = G.draw(len(real))
            fake = G(eps, y_fake)
            s_real, s_fake = D(real, labels), D(fake.detach(), y_fake)
        elif y_dim:
            y_fake = torch.randint(0, y_dim, (len(real),), device=dev)
            fake = G(torch.randn(len(real), nz, device=dev), y_fake)
            s_real, s_fake = D(real, labels), D(fake.detach(), y_fake)
        else:
            fake = G(torch.randn(len(real), nz, device=dev))
            s_real, s_fake = D(real), D(fake.detach())
        loss_d = bce(s_real, torch.ones_like(s_real)) + bce(s_fake, torch.zeros_like(s_fake))
        opt_D.zero_grad()
        loss_d.backward()
        opt_D.step()
        s = D(fake, y_fake) if y_dim or mixture else D(fake)
        loss_g = bce(s, torch.ones_like(s))
        opt_G.zero_grad()
        loss_g.backward()
        out = {}
        if grad_norm:
            out["g_grad_norm"] = nn.utils.clip_grad_norm_(G.parameters(), float("inf"))  # measures, never clips
        opt_G.step()
        for sched in schedules:
            sched.step()
        ema.update(G)
        return {"loss_d": loss_d, "loss_g": loss_g, "d_x": torch.sigmoid(s_real).mean(),
                "d_g_z1": torch.sigmoid(s_fake).mean(), "d_g_z2": torch.sigmoid(s).mean(), **out}

    return step


def train_dcgan(steps: int, seed: int = 0, live: bool | None = None) -> Generator:
    """Train notebook 03's main run (the plain DCGAN, z ~ N(0, I)) for ``steps`` batches; return the averaged
    generator (eval mode). Notebook 05 only needs some DCGAN to invert; the saved one has notebook 03's cluster prior."""
    if not isinstance(steps, int) or steps < 1:
        raise CourseError(f"steps must be a positive whole number; got {steps!r}.")
    dev = config.device()
    config.seed_everything(seed)
    G = DCGANGenerator(nz=DCGAN["nz"], ngf=DCGAN["ngf"]).to(dev)
    D = DCGANDiscriminator(ndf=DCGAN["ndf"], extra_layers=DCGAN["extra_layers"]).to(dev)
    opt_G = torch.optim.Adam(G.parameters(), lr=DCGAN["lr"], betas=DCGAN["betas"])
    opt_D = torch.optim.Adam(D.parameters(), lr=DCGAN["lr"], betas=DCGAN["betas"])
    ema = EMA(G, decay=DCGAN["ema"], warmup=True)
    step = gan_step(G, D, opt_G, opt_D, G.nz, dev, ema=ema)
    data = load_mnist(device=dev, quiet=True)
    fixed_z = torch.randn(64, G.nz, generator=torch.Generator().manual_seed(1)).to(dev)
    history = train(step, data.train, steps=steps, batch_size=DCGAN["batch"], G=ema.model, fixed_z=fixed_z,
                    generator=torch.Generator().manual_seed(seed), title=f"fallback DCGAN, {steps} steps",
                    log_lines=2, live=live)
    G_avg = ema.model.eval()
    G_avg.meta = {"steps": history.steps, "seed": seed, "data": data.source, "fallback": True}
    return G_avg


def generator_or_train(name: str = "dcgan", fallback_steps: int = 1500) -> tuple[Generator, str]:
    """The saved generator ``name``, or (when it is missing or unusable) a short DCGAN trained now.

    Returns ``(G, note)``: ``note`` is one sentence saying which of the two the notebook got.
    """
    try:
        read_checkpoint(name)
        G = load_generator(name)
        meta = G.meta
        return G, (f"Loaded the {name!r} checkpoint ({meta.get('steps', '?')} steps, {meta.get('mode', '?')} mode, "
                   f"{meta.get('data', '?')} data).")
    except CourseError as err:
        note = (f"{err} Meanwhile this notebook trains a short DCGAN ({fallback_steps} steps) so that it runs; "
                f"its restorations will be weaker than with the full checkpoint.")
        print(note)
        return train_dcgan(fallback_steps), note
