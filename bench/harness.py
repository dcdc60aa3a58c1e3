"""What the benchmark scripts share: the machine line, the bare training loop, and writing a section.

bench/results.md is made of sections ``<!-- name -->...<!-- /name -->``; each script rewrites its own
and keeps the others, so one script can be rerun alone. All numbers in a section come from one run.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import sys
import time
from pathlib import Path

import torch

from tools.reports import machine_summary

RESULTS = Path(__file__).with_name("results.md")
HEADER = """# Benchmarks

Written by `make bench` (see the Makefile and the README's "Benchmarks"). Each section below comes from
one run of one script, on the machine it names; rerun a single script to refresh its section.
"""


def machine(dev: torch.device | str) -> str:
    """This machine in one line: CPU, threads torch uses, device, torch and Python versions, date."""
    return (f"{machine_summary()}; torch uses {torch.get_num_threads()} threads on `{dev}`; "
            f"torch {torch.__version__}, Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M %Z')}")


def parser(doc: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog=f"python -m bench.{Path(sys.argv[0]).stem}", description=doc.split("\n")[0])
    ap.add_argument("--out", type=Path, default=RESULTS, help=f"results file to update (default: {RESULTS})")
    return ap


@contextlib.contextmanager
def patched_environ(drop: tuple[str, ...] = (), **values: str):
    """``os.environ`` with ``values`` set and ``drop`` removed for the ``with`` block (kernels started inside inherit
    it), then restored exactly."""
    saved = dict(os.environ)
    os.environ.update(values)
    for name in drop:
        os.environ.pop(name, None)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def suite_commands(tree: Path) -> dict[str, str]:
    """The unit-test and nbval lines of the tree's own ``make test`` recipe (not the browser tests), with ``$(PY)``
    replaced by this Python: each version runs its suite as its Makefile does."""
    recipe = Path(tree, "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()[1:] if "pytest" in line and "browser" not in line
             and not line.strip().startswith(("@", "echo"))]
    found = {("nbval" if "--nbval" in line else "unit"): line.replace("$(PY)", sys.executable) for line in lines}
    if set(found) != {"unit", "nbval"}:
        raise SystemExit(f"{tree}/Makefile: expected a unit-test line and an nbval line in `make test`, found {lines}")
    return found


def write_section(out: Path, name: str, text: str) -> None:
    """Replace the section ``name`` of ``out`` with ``text`` (or append it); other sections stay."""
    old = out.read_text() if out.exists() else HEADER
    block = f"<!-- {name} -->\n{text.strip()}\n<!-- /{name} -->"
    marker = re.compile(rf"<!-- {name} -->.*?<!-- /{name} -->", re.S)
    new = marker.sub(lambda _m: block, old, count=1) if marker.search(old) else old.rstrip() + "\n\n" + block + "\n"
    out.write_text(new)
    print(f"wrote section '{name}' of {out}")


class BareLoop:
    """The minimal training loop: a permutation per epoch, slicing, the step. Continues across calls."""

    def __init__(self, split, batch: int, seed: int = 0):
        self.split, self.batch = split, batch
        self.gen = torch.Generator().manual_seed(seed)
        self.order, self.pos = None, len(split)

    def run(self, step, steps: int) -> None:
        n = len(self.split)
        for _ in range(steps):
            if self.pos + self.batch > n:
                self.order, self.pos = torch.randperm(n, generator=self.gen).to(self.split.images.device), 0
            idx = self.order[self.pos:self.pos + self.batch]
            self.pos += self.batch
            step(self.split.images[idx], self.split.labels[idx])

