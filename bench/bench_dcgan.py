"""Benchmark: time for a DCGAN to reach good digits, the course's recipe against a plain reference.

Both train on the same data, on the same machine, in one run, one after the other:

* **reference**: the PyTorch examples' DCGAN (github.com/pytorch/examples, ``dcgan/main.py``) adapted
  to 28x28: 64 filters, G ``nz -> 256x7x7 -> 128x14x14 -> 1x28x28``, D ``1 -> 64 -> 128 -> sigmoid``,
  ``BCELoss``, Adam 2e-4 with betas (0.5, 0.999), batch 64, samples from the raw generator; a bare
  loop (permutation, slicing, the step).
* **course**: notebook 03's recipe (``helpers.models.DCGANGenerator`` / ``DCGANDiscriminator``, the
  widths and learning rate below, samples from the averaged generator) in ``helpers.train`` with its
  history, log and divergence checks.

Every ``--every`` seconds of training (evaluation time excluded) the quality meter measures 2,000
samples; the run stops at the digit bar (85% confident, every class at least 6%) or after
``--budget`` seconds. Reported: the time to reach each confidence level and the bar.

Run: ``.venv/bin/python bench/bench_dcgan.py`` (about 2 x budget); writes its section of bench/results.md.
"""
from __future__ import annotations

import argparse
import copy
import platform
import re
import time
from pathlib import Path

import torch
from torch import nn

import helpers
from helpers.models import DCGANDiscriminator, DCGANGenerator

OUT = Path(__file__).with_name("results.md")
BAR = {"confident": 0.85, "min_class": 0.06}
LEVELS = (0.5, 0.6, 0.7, 0.8, 0.85)
COURSE = {"ngf": 32, "ndf": 32, "lr": 1e-3, "ema": 0.999}   # keep in step with notebooks/03_dcgan.ipynb
NZ, BATCH = 100, 64


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


def weights_init(m):   # as in the PyTorch example
    name = m.__class__.__name__
    if "Conv" in name:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in name:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.constant_(m.bias, 0)


class Run:
    """Train in slices of wall-clock time; measure the samples between slices."""

    def __init__(self, name, every, budget):
        self.name, self.every, self.budget = name, every, budget
        self.trained, self.steps, self.points, self.reached = 0.0, 0, [], {}

    def measure(self, x01):
        q = helpers.quality(x01)
        self.points.append((self.trained, self.steps, q))
        for level in LEVELS:
            if q.confident >= level and level not in self.reached:
                self.reached[level] = self.trained
        if q.meets(**BAR) and "bar" not in self.reached:
            self.reached["bar"] = self.trained
        print(f"{self.name:>9}: {self.trained:6.0f} s, {self.steps:6d} steps: {q}", flush=True)
        return "bar" in self.reached or self.trained >= self.budget


def reference(data, every, budget):
    torch.manual_seed(0)
    G, D = RefG(), RefD()
    G.apply(weights_init), D.apply(weights_init)
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    crit, run = nn.BCELoss(), Run("reference", every, budget)
    gen, n = torch.Generator().manual_seed(0), len(data.train)
    order, pos = torch.randperm(n, generator=gen), 0
    while True:
        start = time.perf_counter()
        while time.perf_counter() - start < every:
            if pos + BATCH > n:
                order, pos = torch.randperm(n, generator=gen), 0
            real = data.train.images[order[pos:pos + BATCH]]
            pos += BATCH
            D.zero_grad()
            out = D(real)
            err_real = crit(out, torch.ones_like(out))
            err_real.backward()
            fake = G(torch.randn(BATCH, NZ, 1, 1))
            out = D(fake.detach())
            err_fake = crit(out, torch.zeros_like(out))
            err_fake.backward()
            opt_D.step()
            G.zero_grad()
            out = D(fake)
            crit(out, torch.ones_like(out)).backward()
            opt_G.step()
            run.steps += 1
        run.trained += time.perf_counter() - start
        G.eval()
        with torch.no_grad():
            x = torch.cat([G(torch.randn(500, NZ, 1, 1, generator=torch.Generator().manual_seed(i))) for i in range(4)])
        G.train()
        if run.measure((x + 1) / 2):
            return run


def course(data, every, budget):
    helpers.seed_everything(0)
    G, D = DCGANGenerator(nz=NZ, ngf=COURSE["ngf"]), DCGANDiscriminator(ndf=COURSE["ndf"])
    opt_G = torch.optim.Adam(G.parameters(), lr=COURSE["lr"], betas=(0.5, 0.999))
    opt_D = torch.optim.Adam(D.parameters(), lr=COURSE["lr"], betas=(0.5, 0.999))
    ema, bce = helpers.EMA(G, decay=COURSE["ema"], warmup=True), nn.BCEWithLogitsLoss()

    def step(real, labels):
        fake = G(torch.randn(len(real), NZ))
        s_real, s_fake = D(real), D(fake.detach())
        loss_d = bce(s_real, torch.ones_like(s_real)) + bce(s_fake, torch.zeros_like(s_fake))
        opt_D.zero_grad(); loss_d.backward(); opt_D.step()
        s = D(fake)
        loss_g = bce(s, torch.ones_like(s))
        opt_G.zero_grad(); loss_g.backward(); opt_G.step()
        ema.update(G)
        return {"loss_d": loss_d, "loss_g": loss_g, "d_x": torch.sigmoid(s_real).mean(),
                "d_g_z1": torch.sigmoid(s_fake).mean(), "d_g_z2": torch.sigmoid(s).mean()}

    run, order = Run("course", every, budget), torch.Generator().manual_seed(0)
    chunk = 200   # steps per call of helpers.train; calls repeat until `every` seconds have passed
    while True:
        start = time.perf_counter()
        while time.perf_counter() - start < every:
            helpers.train(step, data.train, steps=chunk, batch_size=BATCH, generator=order, quiet=True,
                          dashboard=False)
            run.steps += chunk
        run.trained += time.perf_counter() - start
        if run.measure(ema.model.sample(2000, seed=1)):
            return run


def table(runs) -> str:
    head = "| recipe | " + " | ".join(f"{level:.0%} confident" for level in LEVELS) + " | digit bar (85%, every class ≥ 6%) | best measured |"
    lines = [head, "|---|" + "---:|" * (len(LEVELS) + 2)]
    for run in runs:
        best = max(run.points, key=lambda p: p[2].confident)
        cells = [f"{run.reached[level]:.0f} s" if level in run.reached else "–" for level in LEVELS]
        bar = f"{run.reached['bar']:.0f} s" if "bar" in run.reached else f"not within {run.budget:.0f} s"
        lines.append(f"| {run.name} | " + " | ".join(cells) + f" | {bar} | {best[2].confident:.1%} at {best[0]:.0f} s "
                     f"(rarest class {best[2].min_class:.1%}, FD {best[2].fd:.1f}) |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--every", type=float, default=60, help="seconds of training between measurements")
    ap.add_argument("--budget", type=float, default=600, help="seconds of training at most, per recipe")
    args = ap.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    data = helpers.load_mnist(device="cpu")
    runs = [course(data, args.every, args.budget), reference(data, args.every, args.budget)]
    section = (f"## DCGAN: time to good digits\n\n`bench/bench_dcgan.py`, {time.strftime('%Y-%m-%d')}. Machine: "
               f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, CPU; torch {torch.__version__}.\n"
               f"Data: {data.description}. Training seconds (measurement time excluded) until 2,000 samples first reach "
               f"each share of confident samples; measured every {args.every:.0f} s of training.\n\n"
               f"Course recipe: {COURSE} (averaged weights), `helpers.train`. Reference: the PyTorch examples' DCGAN at "
               f"28x28, 64 filters, lr 2e-4, bare loop.\n\n{table(runs)}\n")
    text = OUT.read_text() if OUT.exists() else "# Benchmarks\n"
    marker = re.compile(r"<!-- dcgan -->.*<!-- /dcgan -->", re.S)
    block = f"<!-- dcgan -->\n{section}<!-- /dcgan -->"
    text = marker.sub(lambda _m: block, text) if marker.search(text) else text.rstrip() + "\n\n" + block + "\n"
    OUT.write_text(text)
    print(table(runs))


if __name__ == "__main__":
    main()
