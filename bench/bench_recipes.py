"""Benchmark: what each model's training time buys: quality against training seconds for the notebooks' recipes and variants.

Issue 20 asks each model to reach its notebook's quality in at most 0.67x today's training time. This script is
the measurement behind any change of recipe: each variant trains from scratch (the notebook's players and step from
``helpers.lessons``, a bare loop, batch order and weights seeded), and every ``every`` steps the averaged generator is
measured on 2,000 samples (the quality meter; for the conditional GAN also the share read as the requested digit).
Measurement time is excluded from the training seconds.

For each model the first variant is its notebook's recipe before issue 20 (standard mode, float32, the steps of
bcc013e), the baseline of the ratios. A variant "reaches the recipe's quality" at its first measurement with at
least the recipe's final confident share (label match for the cGAN) minus 1 point and at most 1.1 times its final
Fréchet distance; the table gives that time as a ratio of the recipe's own training time (target: at most 0.67).

Run: ``.venv/bin/python -m bench.bench_recipes`` (about 30 min on a quiet 2-core CPU; ``--models dcgan`` for one
model, ``--scale 0.05`` for a smoke test that shortens every run). Writes the section "recipes" of bench/results.md;
with ``GAN_COURSE_SEED=1`` (other weights, noise and batch order) the section "recipes, seed 1".
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import torch

import helpers
from bench import contenders
from bench.harness import BareLoop, machine, parser, write_section
from helpers.digit_classifier import classifier, predict
from helpers.lessons import conditional_gan, dcgan, vanilla_gan

N_SAMPLES = 2000


@dataclass
class Variant:
    model: str                   # "mlp", "dcgan", "clusters" or "cgan"
    name: str
    steps: int
    every: int
    settings: dict = field(default_factory=dict)   # lesson-module constants replaced for this run (NGF, LR, STEPS ...)
    batch: int | None = None     # None: the notebook's batch
    decay: bool = False          # DCGAN only: notebook 01's schedule (constant, then linearly to 0 over the second half)
    d_extra: int | None = None   # DCGAN only: D's extra 3x3 layers (None: the notebook's)
    precision: str = "fp32"      # helpers.config.precision for the run: the recipes as they were are float32


VARIANTS = [
    Variant("mlp", "notebook 01 before issue 20: 10,000 steps, lr 1e-3", 10_000, 1000, {"STEPS": 10_000}),
    Variant("mlp", "bfloat16 products (GAN_COURSE_PRECISION=auto here)", 10_000, 1000, {"STEPS": 10_000}, precision="bf16"),
    Variant("mlp", "notebook 01 now: 8,000 steps (schedule compressed), bfloat16", 8000, 1000, {"STEPS": 8000},
            precision="bf16"),
    Variant("mlp", "6,000 steps (schedule compressed)", 6000, 1000, {"STEPS": 6000}),
    Variant("mlp", "6,000 steps, lr 2e-3", 6000, 1000, {"STEPS": 6000, "LR": 2e-3}),
    Variant("dcgan", "notebook 03: 2,000 steps, batch 64, lr 1e-3, ngf 32, extra D layer", 2000, 200),
    Variant("dcgan", "bfloat16 products, channels-last (GAN_COURSE_PRECISION=auto here)", 2000, 200, precision="bf16"),
    Variant("dcgan", "batch 32", 2000, 200, batch=32),
    Variant("dcgan", "no extra D layer", 2000, 200, d_extra=0),
    Variant("dcgan", "ngf 24", 2000, 200, {"NGF": 24}),
    Variant("dcgan", "lr 2e-3", 1400, 200, {"LR": 2e-3}),
    Variant("dcgan", "lr 2e-3, ngf 24", 1400, 200, {"LR": 2e-3, "NGF": 24}),
    Variant("dcgan", "1,200 steps, lr decayed over the second half", 1200, 200, decay=True),
    Variant("dcgan", "lr 2e-3, bfloat16", 1400, 200, {"LR": 2e-3}, precision="bf16"),
    Variant("clusters", "notebook 03's cluster prior: 2,000 steps", 2000, 200),
    Variant("clusters", "bfloat16 products, channels-last (GAN_COURSE_PRECISION=auto here)", 2000, 200, precision="bf16"),
    Variant("clusters", "lr 2e-3, ngf 24", 1400, 200, {"LR": 2e-3, "NGF": 24}),
    Variant("clusters", "lr 2e-3, bfloat16", 1400, 200, {"LR": 2e-3}, precision="bf16"),
    Variant("clusters", "lr 2e-3, ngf 24, bfloat16", 1400, 200, {"LR": 2e-3, "NGF": 24}, precision="bf16"),
    Variant("cgan", "notebook 04 before issue 20: 4,000 steps", 4000, 400),
    Variant("cgan", "bfloat16 products, channels-last (GAN_COURSE_PRECISION=auto here)", 4000, 400, precision="bf16"),
    Variant("cgan", "notebook 04 now: 3,200 steps, bfloat16", 3200, 400, precision="bf16"),
    Variant("cgan", "lr 2e-3, ngf 24", 2400, 400, {"LR": 2e-3, "NGF": 24}),
]
MODELS = {"mlp": ("MLP GAN", "01", vanilla_gan), "dcgan": ("DCGAN, plain", "03", dcgan),
          "clusters": ("DCGAN, one bump per cluster", "03", dcgan), "cgan": ("conditional GAN", "04", conditional_gan)}


@contextlib.contextmanager
def lesson_settings(module, settings: dict):
    """The lesson module's constants replaced for the ``with`` block (its functions read them when called)."""
    saved = {k: getattr(module, k) for k in settings}
    for k, v in settings.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


def build(v: Variant, data):
    """(step, averaged generator, training split, measure, batch) for one variant, built inside its settings.

    The MLP GAN, the clustered DCGAN and the cGAN are bench/contenders.py's players (they read the lesson's constants
    when built); the plain DCGAN is built here, since its variants also change D's extra layers and the schedule."""
    module = MODELS[v.model][2]
    if v.model != "dcgan":
        players = {"mlp": contenders.MLP, "clusters": contenders.DCGAN, "cgan": contenders.CGAN}[v.model].build()
        step, G, split = players.step, players.G, players.data if players.data is not None else data.train
    else:
        extra = module.D_EXTRA if v.d_extra is None else v.d_extra
        G_live, D, opt_G, opt_D = module.make_players(d_extra=extra, lr=module.LR)
        ema = helpers.EMA(G_live, decay=module.EMA_DECAY, warmup=True)
        step, G, split = module.make_step(G_live, D, opt_G, opt_D, ema), ema.model, data.train
        if v.decay:
            schedules = [torch.optim.lr_scheduler.LambdaLR(o, lambda s: min(1.0, 2 * (1 - s / v.steps))) for o in (opt_G, opt_D)]
            inner = step

            def step(real, labels):
                out = inner(real, labels)
                for s in schedules:
                    s.step()
                return out

    def measure() -> dict:
        if v.model != "cgan":
            q = helpers.quality(G.sample(N_SAMPLES, seed=1))
            return {"value": q.confident, "fd": q.fd, "text": f"{q.confident:.1%} confident, FD {q.fd:.1f}"}
        labels = torch.arange(N_SAMPLES) % module.CLASSES
        x = G.sample(N_SAMPLES, labels=labels, seed=1)
        match = (predict(classifier(), x).argmax(1).cpu() == labels).float().mean().item()
        q = helpers.quality(x)
        return {"value": match, "fd": q.fd, "text": f"{match:.1%} read as asked, FD {q.fd:.1f}"}
    return step, split, measure, module.BATCH if v.batch is None else v.batch


def run(v: Variant, data, scale: float) -> list[tuple[int, float, dict]]:
    steps, every = max(2, int(v.steps * scale)), max(1, int(v.every * scale))
    module = MODELS[v.model][2]
    settings = dict(v.settings)
    if scale != 1 and v.model == "mlp":
        settings["STEPS"] = max(2, int(settings.get("STEPS", module.STEPS) * scale))
    points, trained = [], 0.0
    with lesson_settings(module, settings), helpers.config.using_precision(v.precision):
        step, split, measure, batch = build(v, data)
        loop = BareLoop(split, batch, seed=helpers.config.run_seed())
        done = 0
        while done < steps:
            n = min(every, steps - done)
            start = time.perf_counter()
            loop.run(step, n)
            trained += time.perf_counter() - start
            done += n
            points.append((done, trained, measure()))
            print(f"{v.model:>8} | {v.name}: {done:6d} steps {trained:6.0f} s  {points[-1][2]['text']}", flush=True)
    return points


def reached(points, target) -> tuple[int, float] | None:
    """The first (steps, seconds) at which a run has the target's final quality (see the module docstring)."""
    final = target[-1][2]
    for steps, seconds, m in points:
        if m["value"] >= final["value"] - 0.01 and m["fd"] <= 1.1 * final["fd"]:
            return steps, seconds
    return None


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--models", nargs="+", choices=list(MODELS), default=list(MODELS))
    ap.add_argument("--variants", nargs="+", default=None, metavar="TEXT",
                    help="run only the variants whose name contains one of these (each model's recipe always runs)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every run's steps (a smoke test: 0.05)")
    args = ap.parse_args()
    dev = helpers.device()
    data = helpers.load_mnist(quiet=True)
    seed = helpers.config.run_seed()
    started = time.perf_counter()
    recipes = {model: next(v for v in VARIANTS if v.model == model) for model in MODELS}
    chosen = [v for v in VARIANTS if v.model in args.models and
              (args.variants is None or v is recipes[v.model] or any(t in v.name for t in args.variants))]
    results = [(v, run(v, data, args.scale)) for v in chosen]
    lines = ["| model (notebook) | variant | steps | training time | final quality | reaches the recipe's quality at | time / recipe's |",
             "|---|---|---:|---:|---|---|---:|"]
    curves = []
    for model in args.models:
        rows = [(v, p) for v, p in results if v.model == model]
        recipe_points = rows[0][1]
        recipe_time = recipe_points[-1][1]
        title, nb, _ = MODELS[model]
        for v, points in rows:
            hit = reached(points, recipe_points)
            at = f"{hit[0]:,} steps, {hit[1]:.0f} s" if hit else "not reached"
            ratio = f"**{hit[1] / recipe_time:.2f}**" if hit else "–"
            lines.append(f"| {title} ({nb}) | {v.name} | {points[-1][0]:,} | {points[-1][1]:.0f} s | {points[-1][2]['text']} | {at} | {ratio} |")
            curves.append(f"* **{title}, {v.name}**: " + ", ".join(f"{s:,}: {m['value']:.1%} / {m['fd']:.1f}" for s, _, m in points))
    text = f"""## Recipes: what each model's training time buys

`python -m bench.bench_recipes{' --models ' + ' '.join(args.models) if args.models != list(MODELS) else ''}{' --variants ' + ' '.join(repr(t) for t in args.variants) if args.variants else ''}{f' --scale {args.scale:g}' if args.scale != 1 else ''}`: one run, {(time.perf_counter() - started) / 60:.0f} min in all, `GAN_COURSE_SEED={seed}` only.
Machine: {machine(dev)}. Data: {data.description}.

Each variant trains from scratch with its notebook's players and step (`helpers.lessons`, standard mode) in a bare loop; the
averaged generator is measured on {N_SAMPLES:,} samples every few hundred steps (measurement time excluded). A variant reaches
the recipe's quality at its first measurement with at least the recipe's final share (confident, or read as the requested
digit for the cGAN) minus 1 point and at most 1.1 times its final FD. The recipes run in float32, as every notebook did
before `GAN_COURSE_PRECISION` (the "bfloat16" variants are what `auto` picks on this CPU). One seed: differences of a point or two in the share, or
10% in FD, are within the spread between seeds (see the "seed spread" sections).

{chr(10).join(lines)}

Curves (steps: share / FD):

{chr(10).join(curves)}
"""
    section = "recipes" + (f", seed {seed}" if seed else "") + (", " + " ".join(args.variants) if args.variants else "")
    write_section(args.out, section, text)


if __name__ == "__main__":
    main()
