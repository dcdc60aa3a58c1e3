"""The benchmark scripts (bench/): what they read from the notebooks and write into bench/results.md.

The benchmarks themselves run for about an hour (`make bench`); these tests keep their parts working.
"""
from __future__ import annotations

import json
import math

import nbformat
import pytest
import torch
from nbformat.v4 import new_markdown_cell, new_notebook

import helpers
from bench import bench_notebooks, contenders, harness
from helpers.config import ROOT
from helpers.lessons import vanilla_gan
from tools import reports


@pytest.mark.parametrize("path", reports.course_notebooks(), ids=lambda p: p.stem)
def test_stated_budgets_are_read_from_each_notebook(path):
    """Every notebook states its quick and standard run time where the benchmark finds them (the values change
    with each re-measurement; bench_notebooks compares them with the measured times)."""
    stated = bench_notebooks.stated_budgets(path)
    assert set(stated) == {"quick", "standard"} and all(0 < s <= 30 * 60 for s in stated.values()), stated


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


SCRIPTS = ("profile_steps", "bench_training", "bench_time_to_bar", "bench_restore", "bench_notebooks", "seed_spread",
           "bench_recipes", "bench_speedup", "toy_seeds")


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


def test_seed_spread_reads_every_check_line_and_the_spread_of_its_numbers():
    from bench import seed_spread
    from nbformat.v4 import new_code_cell, new_output

    def run(*lines):
        cell = new_code_cell("x", outputs=[new_output("stream", name="stdout", text="\n".join(["noise", *lines]) + "\n")])
        return seed_spread.claims(new_notebook(cells=[cell]))

    a = run("✓ bar holds  [76.4% confident, FD 34.9]", "· long claim  [fails in quick mode, checked in standard mode]")
    b = run("✗ bar holds  [74.5% confident, FD 36.1]", "✓ plain claim")
    assert a[0] == ("✓", "bar holds", "76.4% confident, FD 34.9") and b[1] == ("✓", "plain claim", "")
    table = seed_spread.table("01_x", {0: a, 1: b})
    assert "| bar holds | ✓ 76.4% confident, FD 34.9 | ✗ 74.5% confident, FD 36.1 | 1.9, 1.2 |" in table
    assert "| plain claim | (not reached) | ✓  | – |" in table


def test_a_stated_time_is_scaled_by_the_probes_and_flagged_beyond_one_and_a_half(tmp_path):
    path = tmp_path / "x.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell(
        "# T\n\n**Run time**, measured on a 2-core CPU (speed probe 1,200 img/s): quick ≈ 40 s · standard ≈ 5 min")]), path)
    assert bench_notebooks.stated_probe(path) == 1200 and bench_notebooks.stated_budgets(path)["standard"] == 300
    # half as fast here: 5 min stated becomes 10 min expected
    assert bench_notebooks.against_stated(600, 300, 1200, 600) == " (1.00x expected ✓)"
    assert bench_notebooks.against_stated(300, 300, 1200, 600) == " (0.50x expected ⚠)"
    assert bench_notebooks.against_stated(950, 300, 1200, 600) == " (1.58x expected ⚠)"
    assert bench_notebooks.against_stated(250, 300, None, None) == " ✓"   # no probe stated: within the stated time
    nbformat.write(new_notebook(cells=[new_markdown_cell(
        "**Run time**: standard ≈ 5 min.\n\nMeasured on a machine whose speed probe read 980 img/s.")]), path)
    assert bench_notebooks.stated_probe(path) == 980


def test_every_notebook_states_its_standard_time_with_the_probe_it_was_measured_at():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        probe, budgets = bench_notebooks.stated_probe(path), bench_notebooks.stated_budgets(path)
        assert probe and 100 < probe < 100_000, f"{path.name}: no speed probe in its Run time paragraph"
        assert {"quick", "standard"} <= set(budgets), f"{path.name}: states {budgets}"


def test_speedup_runs_each_versions_suite_as_its_makefile_does_and_reports_ratios():
    from bench import bench_speedup
    commands = harness.suite_commands(ROOT)
    assert "--nbval notebooks" in commands["nbval"] and commands["unit"].rstrip().endswith(" tests")
    assert all("$(PY)" not in c and "browser" not in c for c in commands.values())
    run = lambda seconds, probe: {"seconds": seconds, "probe": probe, "error": None, "peak_mb": 900,  # noqa: E731
                                  "slowest": [{"cell": 3, "seconds": seconds - 5, "first_line": "train()"}]}
    results = {"notebooks": {"01_x": {"baseline": run(300, 1000), "current": run(200, 800)}},
               "suite": {v: {"unit": u, "nbval": n, "unit_result": "9 passed", "nbval_result": "5 passed",
                             "unit_command": "pytest tests", "nbval_command": "pytest --nbval notebooks"}
                         for v, u, n in (("baseline", 100, 200), ("current", 50, 120))}}
    text = bench_speedup.report(results, {"baseline": "abc", "current": "def"}, ["baseline", "current"], 900)
    row = next(line for line in text.splitlines() if line.startswith("| 01_x"))
    # 200 s at probe 800 is 160 s at the baseline's probe 1000: 0.53x, within the 0.6 target; unscaled 0.67x
    assert "| 0.67x |" in row and "**0.53x** ✓" in row and "all held" in row
    # with a probe after each run too, each run's speed is the mean of its two: (800 + 1000) / 2 against (1000 + 1000) / 2
    results["notebooks"]["01_x"]["baseline"]["probe_after"] = 1000
    results["notebooks"]["01_x"]["current"]["probe_after"] = 1000
    row = next(line for line in bench_speedup.report(results, {"baseline": "abc", "current": "def"}, ["baseline", "current"],
                                                     900).splitlines() if line.startswith("| 01_x"))
    assert "| 800 / 1,000 |" in row and "**0.60x** ✓" in row
    assert "| **both** | 5 min 00 s | 2 min 50 s | **0.57x** ✓ |" in text


def test_seed_spread_merges_seeds_run_as_separate_processes(tmp_path):
    from bench import seed_spread
    for seed, share in ((1, "74.5%"), (2, "78.3%")):
        (tmp_path / f"seed{seed}.json").write_text(json.dumps({
            "results": {"01_x": {str(seed): [["✓", "bar holds", f"{share} confident"]]}},
            "times": {"01_x": {str(seed): 60.0 * seed}}, "minutes": 2.0 * seed, "machine": f"machine {seed}"}))
    out = tmp_path / "results.md"
    assert seed_spread.main(["--claims-in", str(tmp_path / "seed1.json"), str(tmp_path / "seed2.json"), "--out", str(out)]) == 0
    text = out.read_text()
    assert "| bar holds | ✓ 74.5% confident | ✓ 78.3% confident | 3.8 |" in text   # both seeds in one table, and their spread
    assert "`GAN_COURSE_SEED` = 1, 2" in text and "machine 1 / machine 2" in text and "seed 2 2.0 min" in text


def test_seed_spread_names_checkpoints_saved_in_another_mode(tmp_path, monkeypatch):
    from bench import seed_spread
    from helpers.models import MLPGenerator
    monkeypatch.setenv("GAN_COURSE_CHECKPOINTS", str(tmp_path))
    for name, mode in (("dcgan", "quick"), ("vanilla_gan", "standard")):
        monkeypatch.setenv("GAN_COURSE_MODE", mode)
        helpers.save_generator(name, MLPGenerator(nz=4, hidden=(8,)))
    (tmp_path / "cgan.pt").write_bytes(b"not a checkpoint")
    assert seed_spread.other_mode_checkpoints("standard") == ["cgan (unreadable)", "dcgan (quick)"]
    assert seed_spread.other_mode_checkpoints("quick") == ["cgan (unreadable)", "vanilla_gan (standard)"]


def test_recipes_find_where_a_variant_reaches_the_recipes_quality_and_restore_the_lesson():
    from bench import bench_recipes
    from helpers.lessons import dcgan
    recipe = [(100, 10.0, {"value": 0.5, "fd": 80.0}), (200, 20.0, {"value": 0.7, "fd": 30.0})]
    faster = [(100, 5.0, {"value": 0.695, "fd": 40.0}), (200, 10.0, {"value": 0.69, "fd": 33.0}),
              (300, 15.0, {"value": 0.75, "fd": 20.0})]
    assert bench_recipes.reached(recipe, recipe) == (200, 20.0)
    assert bench_recipes.reached(faster, recipe) == (200, 10.0)    # 1 point below and FD within 1.1x: reached
    assert bench_recipes.reached(faster[:1], recipe) is None       # FD 40 > 1.1 x 30
    ngf = dcgan.NGF
    with bench_recipes.lesson_settings(dcgan, {"NGF": ngf + 8}):
        assert dcgan.make_players()[0].net[0].out_channels == 4 * (ngf + 8)
    assert dcgan.NGF == ngf
    assert {v.model for v in bench_recipes.VARIANTS} == set(bench_recipes.MODELS)
