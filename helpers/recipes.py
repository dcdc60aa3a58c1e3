"""Ready-made training runs for notebooks that need a trained generator but do not teach training.

Notebook 05 (inversion and restoration) uses the ``dcgan_clusters`` checkpoint that notebook 03 saves (its
DCGAN with one prior bump per k-means cluster; notebook 03's plain DCGAN is ``dcgan``). When that checkpoint
is missing, :func:`generator_or_train` says so and trains a short plain DCGAN with notebook 03's own players,
step and settings (:mod:`helpers.lessons.dcgan`, exported from the notebook), so the notebook always runs.
"""
from __future__ import annotations

import torch

from .checkpoints import load_generator, read_checkpoint
from .config import CourseError
from .data import load_mnist
from .lessons import dcgan
from .models import Generator
from .training import EMA, train


def train_dcgan(steps: int, seed: int = 0, live: bool | None = None) -> Generator:
    """Train notebook 03's main run (the plain DCGAN, z ~ N(0, I), saved there as ``dcgan``) for ``steps`` batches;
    return the averaged generator (eval mode). Notebook 05 only needs some DCGAN to invert; the one it loads,
    ``dcgan_clusters``, has notebook 03's cluster prior."""
    if not isinstance(steps, int) or steps < 1:
        raise CourseError(f"steps must be a positive whole number; got {steps!r}.")
    G, D, opt_G, opt_D = dcgan.make_players(seed=seed)
    ema = EMA(G, decay=dcgan.EMA_DECAY, warmup=True)
    step = dcgan.make_step(G, D, opt_G, opt_D, ema)
    data = load_mnist(device=dcgan.dev, quiet=True)
    fixed_z = torch.randn(64, G.nz, generator=torch.Generator().manual_seed(1)).to(dcgan.dev)
    history = train(step, data.train, steps=steps, batch_size=dcgan.BATCH, G=ema.model, fixed_z=fixed_z,
                    generator=torch.Generator().manual_seed(seed), title=f"fallback DCGAN, {steps} steps",
                    log_lines=2, live=live)
    G_avg = ema.model.eval()
    G_avg.meta = {"steps": history.steps, "seed": seed, "data": data.source, "fallback": True}
    return G_avg


def generator_or_train(name: str = "dcgan_clusters", fallback_steps: int = 1500) -> tuple[Generator, str]:
    """The saved generator ``name`` (default: notebook 03's DCGAN with the cluster prior), or (when it is missing
    or unusable) a short plain DCGAN trained now.

    Returns ``(G, note)``: ``note`` is one sentence saying which of the two the notebook got.
    """
    try:
        read_checkpoint(name)
        G = load_generator(name)
        meta = G.meta
        return G, (f"Loaded the {name!r} checkpoint ({meta.get('steps', '?')} steps, {meta.get('mode', '?')} mode, "
                   f"{meta.get('data', '?')} data).")
    except CourseError as err:
        note = (f"{err} Meanwhile this notebook trains a short plain DCGAN ({fallback_steps} steps) so that it runs; "
                f"its restorations will be weaker than with the full checkpoint.")
        print(note)
        return train_dcgan(fallback_steps), note
