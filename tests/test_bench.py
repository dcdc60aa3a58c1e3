"""The benchmark scripts (bench/): what they read from the notebooks and write into bench/results.md.

The benchmarks themselves run for about an hour (`make bench`); these tests keep their parts working.
"""
from __future__ import annotations

import math

import nbformat
import pytest
import torch
from nbformat.v4 import new_markdown_cell, new_notebook

import helpers
from bench import bench_notebooks, contenders, harness
from helpers.lessons import vanilla_gan
from tools import reports


@pytest.mark.parametrize("name, quick, standard", [
    ("00_objective_theory", 25, 50), ("01_vanilla_gan", 40, 300), ("02_loss_saturation", 80, 600),
    ("03_dcgan", 60, 660), ("04_conditional_gan", 35, 480), ("05_inversion_restoration", 30, 390)])
def test_stated_budgets_are_read_from_each_notebook(name, quick, standard):
    assert bench_notebooks.stated_budgets(reports.NOTEBOOKS / f"{name}.ipynb") == {"quick": quick, "standard": standard}


def test_stated_budgets_inline_table_and_issue_target(tmp_path):
    def notebook(name, text):
        path = tmp_path / f"{name}.ipynb"
        nbformat.write(new_notebook(cells=[new_markdown_cell(f"# T\n\n**Run time** {text}")]), path)
        return bench_notebooks.stated_budgets(path)

    assert notebook("x", "measured: quick ≈ 1.5 min · standard ≈ 1 h") == {"quick": 90, "standard": 3600}
    assert notebook("y", "\n\n| mode | time |\n|---|---|\n| standard | 7 min |\n") == {"standard": 420}
    assert notebook("06_evaluation", "quick ≈ 20 s · standard ≈ 8 min") == {"quick": 20, "standard": 300}  # issue 7: < 5 min
    assert notebook("z", "not stated yet") == {}


def test_write_section_replaces_its_own_and_keeps_the_others(tmp_path):
    out = tmp_path / "results.md"
    harness.write_section(out, "a", "first A")
    harness.write_section(out, "b", "B")
    harness.write_section(out, "a", "second A")
    text = out.read_text()
    assert text.startswith("# Benchmarks") and "second A" in text and "first A" not in text and "B\n<!-- /b -->" in text
    assert text.index("<!-- a -->") < text.index("<!-- b -->") and text.count("<!-- a -->") == 1


@pytest.mark.parametrize("key", list(contenders.ALL))
def test_each_contender_trains_a_few_steps(key):
    """The benchmarks' models (the notebooks' own players and steps, and the reference) train (a break would only show after an hour)."""
    data = helpers.load_mnist(quiet=True)
    contender = contenders.ALL[key]
    players = contender.build()
    seen = []
    step = lambda real, labels: seen.append(players.step(real, labels))  # noqa: E731
    harness.BareLoop(data.train if players.data is None else players.data, contender.batch).run(step, 2)
    assert len(seen) == 2
    if seen[-1] is not None:   # the reference's bare step returns nothing
        assert all(math.isfinite(float(v.detach())) for v in seen[-1].values())
    if players.fixed_z is not None:
        args = (players.fixed_z,) if players.fixed_labels is None else (players.fixed_z, players.fixed_labels)
        assert players.G(*args).shape == (64, 1, 28, 28)


def test_mlp_contender_is_notebook_01s_run():
    players = contenders.MLP.build()
    G = players.G   # the averaged copy: count every parameter
    assert sum(p.numel() for p in G.parameters()) == 1_480_720   # notebook 01 asserts this count
    assert contenders.MLP.max_steps == vanilla_gan.STEPS and contenders.MLP.batch == vanilla_gan.BATCH


SCRIPTS = ("profile_steps", "bench_training", "bench_time_to_bar", "bench_restore", "bench_notebooks")


def test_a_script_runs_as_a_module_of_the_bench_package():
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "bench.bench_training", "--help"], capture_output=True, text=True,
                          cwd=reports.ROOT)
    assert done.returncode == 0 and "python -m bench.bench_training" in done.stdout, done.stderr[-1000:]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_has_its_help(script, monkeypatch, capsys):
    """In process (a subprocess per script spends seconds importing torch): ``--help`` names how to run it."""
    import importlib
    module = importlib.import_module(f"bench.{script}")
    monkeypatch.setattr("sys.argv", [module.__file__, "--help"])
    with pytest.raises(SystemExit) as done:
        module.main()
    assert done.value.code == 0 and f"python -m bench.{script}" in capsys.readouterr().out


def test_restore_benchmark_runs_notebook_05s_search():
    from bench import bench_restore
    from helpers.models import DCGANGenerator
    G = DCGANGenerator(nz=100, ngf=8).eval().requires_grad_(False)
    search = bench_restore.notebook_search(G, steps=3, restarts=2)
    y = torch.rand(2, 1, 28, 28)
    out = search(y, loss="l1")
    assert out.x.shape == (2, 1, 28, 28) and out.curve.shape == (4, 2, 2)   # steps + 1 rows, restarts x digits


def test_profile_counts_a_steps_flops_and_groups_its_operators(tmp_path):
    from bench import profile_steps
    assert profile_steps.group_of("aten::convolution_backward") == "convolutions"
    assert profile_steps.group_of("aten::addmm") == "matrix products (Linear)"
    assert profile_steps.group_of("aten::_local_scalar_dense") == "synchronisation (.item())"
    data = helpers.load_mnist(quiet=True)
    r = profile_steps.profile_model(contenders.MLP, data.train, steps=2)
    assert 2.0 < r["gflop"] < 2.3   # notebook 01's step, forward and backward: 2.15 GFLOP at batch 128
    assert abs(sum(r["groups"].values()) - 1) < 1e-6 and r["ms"] > 0
