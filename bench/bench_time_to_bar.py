"""Benchmark: training time for each model to reach its digit bar; the course's DCGAN against a plain reference.

Each model of bench/contenders.py trains from scratch with its notebook's players and settings, one after
the other on the same machine in one run:

* the course's models (notebook 01's MLP GAN, 03's saved DCGAN with one bump per cluster, 04's conditional GAN)
  in ``helpers.train``; ``--models dcgan_plain`` adds notebook 03's main run (the plain DCGAN)
  (history, log and divergence checks; no dashboard), sampled from the averaged generator;
* the reference: the PyTorch examples' DCGAN at 28x28 (64 filters, ``BCELoss``, Adam 2e-4), sampled
  from its raw generator, in a bare loop (permutation, slicing, the step).

Every ``--every`` seconds of training (measurement time excluded) the model's measure runs on 2,000
samples: the quality meter, and for the cGAN the share read as the requested digit. A run stops at its
bar, after ``--budget`` seconds of training, or where its notebook's schedule ends. Reported: the
training time to the bar (to within ``--every``), and for the two DCGANs the time to each confidence level.

Run: ``make bench`` or ``.venv/bin/python -m bench.bench_time_to_bar`` (at most 4 x budget plus the
measurements: about 30 min with the defaults; ``--budget 2 --every 1 --chunk 10`` for a smoke test);
writes the section "bar" of bench/results.md, or "bar-full" when full MNIST is in use (``data/MNIST/raw``, or
``GAN_COURSE_DATA`` pointing at a folder that has it).
"""
from __future__ import annotations

import time

import torch

import helpers
from bench.contenders import ALL, COURSE, DCGAN, DCGAN_PLAIN, REFERENCE
from bench.harness import BareLoop, machine, parser, write_section

LEVELS = (0.5, 0.6, 0.7, 0.8, 0.85)


class Run:
    """One model trained in slices of wall-clock time, measured between slices."""

    def __init__(self, contender, data):
        self.contender, self.players = contender, contender.build()
        self.trained, self.steps, self.points, self.stop = 0.0, 0, [], ""
        order = torch.Generator().manual_seed(0)
        if contender.loop == "bare":
            bare = BareLoop(data.train, contender.batch)
            self.train = lambda n: bare.run(self.players.step, n)
        else:
            split = self.players.data if self.players.data is not None else data.train
            self.train = lambda n: helpers.train(self.players.step, split, steps=n, batch_size=contender.batch,
                                                 generator=order, quiet=True, dashboard=False)

    def go(self, every: float, budget: float, chunk: int) -> "Run":
        end = self.contender.max_steps
        while not self.stop:
            start = time.perf_counter()
            while time.perf_counter() - start < every and self.steps != end:
                n = chunk if end is None else min(chunk, end - self.steps)
                self.train(n)
                self.steps += n
            self.trained += time.perf_counter() - start
            score = self.players.measure()
            self.points.append((self.trained, self.steps, score))
            print(f"{self.contender.key:>9}: {self.trained:6.0f} s, {self.steps:6d} steps: {score.text}", flush=True)
            if score.met:
                self.stop = "bar"
            elif self.trained >= budget:
                self.stop = f"not reached in {self.trained:.0f} s (budget {budget:.0f} s)"
            elif self.steps == end:
                self.stop = f"not reached by step {end:,} (its schedule's end)"
        return self

    def first(self, test):
        """The first measurement (seconds, steps, score) that passes ``test(score)``, or None."""
        return next((p for p in self.points if test(p[2])), None)

    def best(self):
        return max(self.points, key=lambda p: p[2].value)


def bar_table(runs) -> str:
    lines = ["| model (notebook) | digit bar | time to bar | steps then | measured then / best measured |",
             "|---|---|---:|---:|---|"]
    for run in runs:
        hit = run.first(lambda s: s.met)
        if hit:
            cells = f"**{hit[0]:.0f} s** | {hit[1]:,} | {hit[2].text}"
        else:
            t, steps, score = run.best()
            cells = f"{run.stop} | – | best: {score.text} at {t:.0f} s ({steps:,} steps)"
        lines.append(f"| {run.contender.title} ({run.contender.notebook}) | {run.contender.bar} | {cells} |")
    return "\n".join(lines)


def levels_table(runs) -> str:
    head = "| model | " + " | ".join(f"{level:.0%} confident" for level in LEVELS) + " | digit bar (85%, every class ≥ 6%) | best measured |"
    lines = [head, "|---|" + "---:|" * (len(LEVELS) + 2)]
    for run in runs:
        cells = []
        for level in LEVELS:
            hit = run.first(lambda s: s.value >= level)
            cells.append(f"{hit[0]:.0f} s" if hit else "–")
        hit = run.first(lambda s: s.met)
        t, _, score = run.best()
        lines.append(f"| {run.contender.title} | " + " | ".join(cells) + f" | {f'{hit[0]:.0f} s' if hit else run.stop} | "
                     f"{score.text} at {t:.0f} s |")
    return "\n".join(lines)


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--every", type=float, default=60, help="seconds of training between measurements (default: 60)")
    ap.add_argument("--budget", type=float, default=600, help="seconds of training at most, per model (default: 600)")
    ap.add_argument("--chunk", type=int, default=200,
                    help="steps per call of the training loop; calls repeat until --every seconds have passed (default: 200)")
    ap.add_argument("--models", nargs="+", choices=list(ALL), default=[*COURSE, REFERENCE.key])
    args = ap.parse_args()
    dev = helpers.device()
    data = helpers.load_mnist(quiet=True)
    started = time.perf_counter()
    runs = {key: Run(ALL[key], data).go(args.every, args.budget, args.chunk) for key in args.models}
    full = data.source == "full"
    text = f"""## Time to the digit bar{' (full MNIST)' if full else ''}

`python -m bench.bench_time_to_bar --budget {args.budget:g} --every {args.every:g} --models {' '.join(args.models)}`: one run,
{(time.perf_counter() - started) / 60:.0f} min in all. Machine: {machine(dev)}.
Data: {data.description}.

Seconds of training (measurement time excluded) until 2,000 samples first meet the model's digit bar,
measured every {args.every:g} s of training (so to within {args.every:g} s). Each model trains from scratch
with its notebook's own players, step and settings (standard mode; `helpers.lessons`) in `helpers.train`, sampled from
the averaged generator; at most {args.budget:g} s each.
"""
    course = [runs[k] for k in COURSE if k in runs]
    if course:
        text += "\n" + bar_table(course) + "\n"
    dcgans = [runs[k] for k in (DCGAN.key, DCGAN_PLAIN.key, REFERENCE.key) if k in runs]
    if DCGAN.key in runs and REFERENCE.key in runs:
        text += f"""
### DCGAN: the course's model against the PyTorch example

The same DCGAN run as above ({'; '.join(DCGAN.notes)}){', the main run of notebook 03 (plain prior)' if DCGAN_PLAIN.key in runs else ''}
and the PyTorch examples' DCGAN (github.com/pytorch/examples, `dcgan/main.py`) adapted to 28x28:
{'; '.join(REFERENCE.notes)}. Training seconds until the samples first reach each share of confident samples.

{levels_table(dcgans)}
"""
    write_section(args.out, "bar-full" if full else "bar", text)
    print(text)


if __name__ == "__main__":
    main()
