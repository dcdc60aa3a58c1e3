"""Profile: where one training step's time goes, for each model, on this machine (issue 20's "profile first").

For each model (bench/contenders.py: the notebooks' own players and steps), a warm-up, then ``torch.profiler``
over a bare loop of ``--steps`` steps; the FLOPs of one step (matrix products and convolutions, forward and
backward) come from ``torch.utils.flop_counter``. The section "profile" of bench/results.md gets, per model: milliseconds per step, images per
second, GFLOP per step and GFLOP/s, and the share of the step's CPU time in each group of operators (the
groups below; "other" is the rest), then the ten most expensive operators. Self CPU time is summed per
operator, so the shares add up to 100% of the time spent in PyTorch operators.

Run: ``.venv/bin/python -m bench.profile_steps`` (about 2 min on a 2-core CPU, on a quiet machine);
``--steps 5 --models mlp`` for a smoke test.
"""
from __future__ import annotations

import re
import time

from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

import helpers
from bench.contenders import ALL, COURSE
from bench.harness import BareLoop, machine, parser, write_section

GROUPS = [  # (name, pattern on the operator name); the first match wins
    ("convolutions", r"conv"),
    ("matrix products (Linear)", r"addmm|\bmm\b|aten::mm|matmul|linear"),
    ("BatchNorm", r"batch_norm"),
    ("optimizer (Adam)", r"_foreach|adam|lerp|addcdiv|addcmul"),
    ("activations and losses", r"leaky_relu|relu|tanh|sigmoid|softplus|binary_cross|threshold|dropout|bernoulli"),
    ("copies, reductions, indexing", r"copy_|clone|to_copy|index|cat|sum|mean|norm|fill_|zero_|view|reshape|empty|stack"),
    ("synchronisation (.item())", r"item|_local_scalar_dense"),
]


def group_of(name: str) -> str:
    return next((g for g, pattern in GROUPS if re.search(pattern, name)), "other")


def profile_model(contender, split, steps: int) -> dict:
    players = contender.build()
    loop = BareLoop(players.data if players.data is not None else split, contender.batch)
    loop.run(players.step, max(3, steps // 5))   # warm-up: allocator, oneDNN primitives
    with FlopCounterMode(display=False) as counter:   # one step's FLOPs, forward and backward
        loop.run(players.step, 1)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        loop.run(players.step, steps)
        seconds = time.perf_counter() - start
    events = prof.key_averages()
    self_us = {e.key: e.self_cpu_time_total for e in events}
    total = sum(self_us.values()) or 1.0
    groups: dict[str, float] = {}
    for key, us in self_us.items():
        groups[group_of(key)] = groups.get(group_of(key), 0.0) + us
    top = sorted(self_us.items(), key=lambda kv: -kv[1])[:10]
    return {"ms": 1000 * seconds / steps, "img_s": steps * contender.batch / seconds,
            "gflop": counter.get_total_flops() / 1e9, "gflops": counter.get_total_flops() * steps / seconds / 1e9,
            "groups": {g: us / total for g, us in sorted(groups.items(), key=lambda kv: -kv[1])},
            "top": [(k, us / total) for k, us in top]}


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--steps", type=int, default=60, help="profiled steps per model (default 60)")
    ap.add_argument("--models", nargs="+", choices=list(ALL), default=list(COURSE) + ["dcgan_plain"])
    args = ap.parse_args()
    dev = helpers.device()
    data = helpers.load_mnist(quiet=True)
    rows, details = [], []
    for key in args.models:
        contender = ALL[key]
        r = profile_model(contender, data.train, args.steps)
        print(f"{contender.title}: {r['ms']:.1f} ms/step, {r['img_s']:,.0f} img/s, {r['gflop']:.2f} GFLOP/step, "
              f"{r['gflops']:.1f} GFLOP/s", flush=True)
        shares = ", ".join(f"{g} {s:.0%}" for g, s in r["groups"].items() if s >= 0.005)
        rows.append(f"| {contender.title} ({contender.notebook}) | {contender.batch} | {r['ms']:.1f} | {r['img_s']:,.0f} | "
                    f"{r['gflop']:.2f} | {r['gflops']:.1f} | {shares} |")
        details.append(f"* **{contender.title}**: " + ", ".join(f"`{k}` {s:.0%}" for k, s in r["top"]))
    text = f"""## Profile: where a training step's time goes

`python -m bench.profile_steps --steps {args.steps}`. One run; machine: {machine(dev)}.
Data: {data.description}.

Each model's own step (the notebooks' players, EMA and schedules) in a bare loop under `torch.profiler`, after a
warm-up. GFLOP per step: matrix products and convolutions, forward and backward (`torch.utils.flop_counter`).
Shares: of the self CPU time of all PyTorch operators in the profiled steps (the profiler's own overhead makes
the step a little slower than in the throughput table).

| model (notebook) | batch | ms per step | images/s | GFLOP per step | GFLOP/s | share of operator time |
|---|---:|---:|---:|---:|---:|---|
{chr(10).join(rows)}

The ten most expensive operators (self CPU time, share of the step):

{chr(10).join(details)}
"""
    write_section(args.out, "profile", text)
    print(text)


if __name__ == "__main__":
    main()
