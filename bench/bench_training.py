"""Benchmark: images per second of the course's training loop against a bare loop, for each model.

Both loops run the same players and the same step (bench/contenders.py: notebook 01's MLP GAN, notebook
03's saved DCGAN (one bump per cluster), notebook 04's conditional GAN, with their EMA, schedules and logged numbers). The bare loop
is the minimum: index permutation, slicing, the step. The course loop is ``helpers.train`` with
everything on: history, log lines, divergence checks and the dashboard rendered every 2 seconds as in
JupyterLab. Per model, one warm-up, then the two loops alternate; the median is reported.

Run: ``make bench`` (``--steps 600 --repeats 5``: about 20 min on a 2-core CPU; shorter runs let the first
and last dashboard draws weigh, and the ratio wobbles by a few points), or ``.venv/bin/python -m
bench.bench_training`` with its defaults (about 8 min; ``--steps 20 --repeats 1`` for a smoke test);
writes the section "training" of bench/results.md.
"""
from __future__ import annotations

import statistics
import time

import torch

import helpers
from bench.contenders import COURSE
from bench.harness import BareLoop, machine, parser, write_section


def bare_loop(contender, split, steps):
    p = contender.build()
    start = time.perf_counter()
    BareLoop(p.data if p.data is not None else split, contender.batch).run(p.step, steps)
    return steps * contender.batch / (time.perf_counter() - start)


def course_loop(contender, split, steps):
    p = contender.build()
    h = helpers.train(p.step, p.data if p.data is not None else split, steps=steps, batch_size=contender.batch, G=p.G, fixed_z=p.fixed_z,
                      fixed_labels=p.fixed_labels, generator=torch.Generator().manual_seed(0), live=True, quiet=True)
    return h.images_per_second


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--steps", type=int, help="steps per run for every model (default: MLP 1000, DCGAN and cGAN 300)")
    ap.add_argument("--repeats", type=int, default=3, help="alternating runs per loop and model (default: 3)")
    ap.add_argument("--models", nargs="+", choices=list(COURSE), default=list(COURSE))
    args = ap.parse_args()
    dev = helpers.device()
    data = helpers.load_mnist(quiet=True)
    rows = []
    for key in args.models:
        contender = COURSE[key]
        steps = args.steps or contender.bench_steps
        bare_loop(contender, data.train, max(5, steps // 10))  # warm-up
        bare, course = [], []
        for r in range(args.repeats):
            bare.append(bare_loop(contender, data.train, steps))
            course.append(course_loop(contender, data.train, steps))
            print(f"{contender.title}, repeat {r + 1}: bare {bare[-1]:,.0f} img/s, course {course[-1]:,.0f} img/s", flush=True)
        b, c = statistics.median(bare), statistics.median(course)
        runs = f"{', '.join(f'{v:,.0f}' for v in bare)} / {', '.join(f'{v:,.0f}' for v in course)}"
        rows.append(f"| {contender.title} ({contender.notebook}) | {contender.batch} | {steps:,} | {b:,.0f} | {c:,.0f} | "
                    f"**{c / b:.3f}** {'✓' if c / b >= 0.9 else '✗'} | {runs} |")
    text = f"""## Training throughput: the course loop versus a bare loop

`python -m bench.bench_training --repeats {args.repeats}{f' --steps {args.steps}' if args.steps else ''}`. One run; machine: {machine(dev)}.
Data: {data.description}.

Images per second, median of {args.repeats} alternating runs per loop (after a warm-up). Both loops run the
notebook's players and step, EMA and schedules included. Bare loop: permutation, slicing, the step.
Course loop: `helpers.train` with history, log lines, divergence checks and the dashboard redrawn every 2 s.

| model (notebook) | batch | steps per run | bare loop, images/s | `helpers.train`, images/s | course / bare (target ≥ 0.9) | runs, bare / course |
|---|---:|---:|---:|---:|---:|---|
{chr(10).join(rows)}
"""
    write_section(args.out, "training", text)
    print(text)


if __name__ == "__main__":
    main()
