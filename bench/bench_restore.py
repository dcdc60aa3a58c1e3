"""Benchmark: restoring a batch of held-out digits with the generator as a prior (notebook 05).

Runs the notebook's own ``search`` function (``helpers.lessons.inversion_restoration``, exported from the
notebook and checked against it by tests/test_lessons.py, so the benchmark measures exactly the code students run) on 100 held-out digits with half of each image masked, for
500 Adam steps (the notebook's standard mode uses 400), with one restart and with the notebook's
three; then one digit at a time for comparison. Target (issue 6): 100 digits x 500 steps under 30 s on a 2-core CPU.

Also measured (issue 20): the same search with the generator's BatchNorm layers not folded into its convolutions
(``helpers.fold_batchnorm``, which the notebook applies since then), and the Gaussian blur of notebook 05's deblurring
(300 digits, forward and backward) as ``helpers.restore.GaussianBlur`` computes it (two 28x28 matrix products) against
``conv2d`` on the reflect-padded images (how it computed it before).

Run: ``.venv/bin/python -m bench.bench_restore`` (about 3 min); writes its section of bench/results.md.
"""
from __future__ import annotations

import copy
import functools
import time

import torch
from torch.nn import functional as F

import helpers
from bench.harness import machine, parser, write_section
from helpers import restore as R
from helpers.lessons import inversion_restoration as notebook05
from helpers.recipes import generator_or_train

TARGET_SECONDS = 30.0


def notebook_search(G, steps: int, restarts: int):
    """Notebook 05's ``search`` for ``G``, with ``steps`` and ``restarts`` (its other settings are the notebook's).

    ``search`` reads the notebook's globals ``G`` and ``SHELL`` (section 1 sets them): set here the same way."""
    notebook05.G = G
    notebook05.SHELL = float(G.noise(10_000, seed=0).square().mean())
    return functools.partial(notebook05.search, steps=steps, restarts=restarts)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--digits", type=int, default=100)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--single", type=int, default=3, help="digits restored one at a time, for comparison")
    args = ap.parse_args()

    dev = helpers.device()
    G, note = generator_or_train("dcgan_clusters", fallback_steps=1500)   # notebook 05's generator
    G_unfolded = G.to(dev).eval().requires_grad_(False).to(memory_format=torch.channels_last)
    G = helpers.fold_batchnorm(copy.deepcopy(G_unfolded)).to(memory_format=torch.channels_last)   # as in the notebook
    data = helpers.load_mnist(quiet=True)
    per_class = max(1, args.digits // 10)
    idx = torch.cat([torch.nonzero(data.heldout.labels == d).flatten()[:per_class] for d in range(10)])[:args.digits]
    x = data.heldout.unit()[idx].to(dev)
    mask = R.Mask.half("bottom")
    y = mask(x)

    rows = []
    for restarts, model, how in ((1, G, ""), (3, G, ""), (3, G_unfolded, ", BatchNorm not folded (before issue 20)")):
        search = notebook_search(model, args.steps, restarts)
        search(y[:2], mask.forward_model, mask.observed, loss="l1", steps=5)    # warm-up
        out = {}
        seconds = timed(lambda: out.setdefault("r", search(y, mask.forward_model, mask.observed, loss="l1")))
        restored = torch.where(mask.observed.to(dev), y, out["r"].x)
        rows.append((f"{len(x)} digits as one batch, {restarts} restart(s){how}", seconds,
                     f"{R.psnr(restored, x).mean():.2f} dB"))
    search = notebook_search(G, args.steps, 1)
    one = sum(timed(lambda i=i: search(y[i:i + 1], mask.forward_model, mask.observed, loss="l1"))
              for i in range(args.single)) / args.single
    rows.append((f"one digit at a time, 1 restart (mean of {args.single}), x {len(x)}", one * len(x), "same search"))

    blur, images = R.GaussianBlur(1.5), torch.rand(300, 1, 28, 28, device=dev, requires_grad=True)
    r = blur.kernel_size // 2
    kernel = blur.kernel.to(dev)[None, None]
    by_conv = lambda v: F.conv2d(F.pad(v, (r, r, r, r), mode="reflect"), kernel)   # noqa: E731
    blur_ms = {name: 1000 * min(timed(lambda: fn(images).square().sum().backward()) for _ in range(20))
               for name, fn in (("matrices", blur), ("conv2d", by_conv))}

    lines = [
        "## Restoration: a batch of digits with the generator as a prior",
        "",
        f"`python -m bench.bench_restore`. {machine(dev)}.",
        f"Notebook 05's `search` (helpers.lessons), half of each digit masked, L1 data term, {args.steps} Adam "
        f"steps. Generator: {note}",
        "",
        "| run | seconds | PSNR (whole image) |",
        "|---|---:|---:|",
        *[f"| {name} | {sec:.1f} | {psnr} |" for name, sec, psnr in rows],
        "",
        f"Target: {args.digits} digits x {args.steps} steps under {TARGET_SECONDS:.0f} s: "
        f"{'met' if rows[0][1] < TARGET_SECONDS else 'NOT met'} ({rows[0][1]:.1f} s).",
        "",
        f"Gaussian blur (sigma 1.5, 11x11), 300 digits, forward and backward, best of 20: {blur_ms['matrices']:.2f} ms "
        f"as two matrix products (`GaussianBlur`), {blur_ms['conv2d']:.1f} ms by `conv2d` on the padded images "
        f"(x{blur_ms['conv2d'] / blur_ms['matrices']:.0f}).",
    ]
    write_section(args.out, "restore", "\n".join(lines))


if __name__ == "__main__":
    main()
