"""Benchmark: images per second of the course's training loop against a bare loop.

Both loops run the same models and the same step (notebook 01's MLP GAN: D on real and fake, then G
with the non-saturating loss). The bare loop is the minimum: index permutation, slicing, the step.
The course loop is ``helpers.train`` with everything on: history, log lines, divergence checks and
the dashboard rendered every 2 seconds as in JupyterLab. Runs alternate, the median is reported.

Run: ``make bench`` (or ``.venv/bin/python bench/bench_training.py``); writes bench/results.md.
"""
from __future__ import annotations

import argparse
import platform
import re
import statistics
import time
from pathlib import Path

import torch
from torch import nn

import helpers

OUT = Path(__file__).with_name("results.md")


def make_step(G, D, opt_G, opt_D, nz):
    bce = nn.BCEWithLogitsLoss()

    def step(real, labels):
        fake = G(torch.randn(len(real), nz, device=real.device))
        s_real, s_fake = D(real), D(fake.detach())
        loss_d = bce(s_real, torch.ones_like(s_real)) + bce(s_fake, torch.zeros_like(s_fake))
        opt_D.zero_grad()
        loss_d.backward()
        opt_D.step()
        s = D(fake)
        loss_g = bce(s, torch.ones_like(s))
        opt_G.zero_grad()
        loss_g.backward()
        opt_G.step()
        return {"loss_d": loss_d, "loss_g": loss_g, "d_x": torch.sigmoid(s_real).mean(),
                "d_g_z1": torch.sigmoid(s_fake).mean(), "d_g_z2": torch.sigmoid(s).mean()}

    return step


def players(dev, nz=64):
    helpers.seed_everything(0)
    G = helpers.MLPGenerator(nz=nz).to(dev)
    D = helpers.MLPDiscriminator(hidden=(512, 256), dropout=0.15).to(dev)
    opts = [torch.optim.Adam(m.parameters(), 1e-3, betas=(0.5, 0.999)) for m in (G, D)]
    return G, D, make_step(G, D, *opts, nz)


def bare_loop(split, steps, batch, dev):
    G, D, step = players(dev)
    gen = torch.Generator().manual_seed(0)
    n = len(split)
    start = time.perf_counter()
    done = 0
    while done < steps:
        order = torch.randperm(n, generator=gen).to(dev)
        for b in range(n // batch):
            idx = order[b * batch:(b + 1) * batch]
            step(split.images[idx], split.labels[idx])
            done += 1
            if done == steps:
                break
    return steps * batch / (time.perf_counter() - start)


def course_loop(split, steps, batch, dev):
    G, D, step = players(dev)
    fixed_z = torch.randn(64, 64, generator=torch.Generator().manual_seed(1)).to(dev)
    h = helpers.train(step, split, steps=steps, batch_size=batch, G=G, fixed_z=fixed_z,
                      generator=torch.Generator().manual_seed(0), live=True, quiet=True)
    return h.images_per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    dev = helpers.device()
    data = helpers.load_mnist(quiet=True)
    bare_loop(data.train, 100, args.batch, dev)  # warm-up
    bare, course = [], []
    for r in range(args.repeats):
        bare.append(bare_loop(data.train, args.steps, args.batch, dev))
        course.append(course_loop(data.train, args.steps, args.batch, dev))
        print(f"repeat {r + 1}: bare {bare[-1]:,.0f} img/s, course {course[-1]:,.0f} img/s", flush=True)
    b, c = statistics.median(bare), statistics.median(course)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    text = f"""# Training-loop benchmark

`make bench` (bench/bench_training.py), {time.strftime('%Y-%m-%d')}.

Machine: {cpu}, {torch.get_num_threads()} threads, device `{dev}`; torch {torch.__version__}, Python {platform.python_version()}.
Data: {data.description}.

Model: notebook 01's MLP GAN (G 64-256-512-1024-784 with BatchNorm, D 784-512-256-1 with dropout),
batch {args.batch}, {args.steps} steps per run, {args.repeats} alternating runs each, median reported.

| loop | images/s (median) | runs |
|---|---:|---|
| bare loop (permutation, slicing, step) | {b:,.0f} | {', '.join(f'{v:,.0f}' for v in bare)} |
| `helpers.train`, dashboard on (redrawn every 2 s), log, history, checks | {c:,.0f} | {', '.join(f'{v:,.0f}' for v in course)} |
| **ratio course / bare** | **{c / b:.3f}** | target ≥ 0.9 |
"""
    # keep the sections other benchmarks wrote (bench_dcgan.py's, between its markers)
    old = OUT.read_text() if OUT.exists() else ""
    blocks = [m.group(0) for m in re.finditer(r"<!-- (\w+) -->.*?<!-- /\1 -->", old, re.S)]
    OUT.write_text(text + "".join(f"\n{b}\n" for b in blocks))
    print(text)


if __name__ == "__main__":
    main()
