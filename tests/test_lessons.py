"""The notebooks' saved cells (``#@save``) and their exports in helpers/lessons/: one source, no silent copies."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from tools import export_cells

MODULES = sorted(export_cells.expected())


def test_every_module_matches_its_notebook():
    wrong = export_cells.stale()
    assert not wrong, f"helpers/lessons/{', '.join(wrong)} differ from the notebooks' #@save cells: run make lessons"


def test_the_reused_notebooks_have_saved_cells():
    assert {"vanilla_gan.py", "dcgan.py", "conditional_gan.py", "inversion_restoration.py"} <= set(MODULES)


def test_each_module_imports_without_side_effects():
    """Importing runs the saved cells: no output, no seeding (the global RNG is untouched), no training. One fresh
    interpreter imports the modules one after the other (starting Python and torch once, not once per module) and
    reports, per module, what it printed and whether it moved the random state."""
    code = "\n".join([
        "import contextlib, importlib, io, json, torch",
        "found = {}",
        f"for name in {[m[:-3] for m in MODULES]!r}:",
        "    torch.manual_seed(123); before = torch.rand(1); torch.manual_seed(123)",
        "    out = io.StringIO()",
        "    with contextlib.redirect_stdout(out):",
        "        importlib.import_module('helpers.lessons.' + name)",
        "    found[name] = {'printed': out.getvalue()[:300], 'seeded': not torch.equal(torch.rand(1), before)}",
        "print(json.dumps(found))",
    ])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=export_cells.ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert sorted(found) == sorted(m[:-3] for m in MODULES)
    for name, seen in found.items():
        assert not seen["seeded"], f"importing helpers.lessons.{name} changed the random state"
        assert seen["printed"] == "", f"importing helpers.lessons.{name} printed: {seen['printed']}"


def test_export_keeps_saved_cells_and_the_imports_they_use(tmp_path):
    notebooks, lessons = tmp_path / "notebooks", tmp_path / "lessons"
    notebooks.mkdir(), lessons.mkdir()
    nbformat.write(new_notebook(cells=[
        new_code_cell("import math\nimport torch\nfrom torch import nn\n\nprint('setup')"),
        new_code_cell("#@save\nSCALE = 2.0"),
        new_code_cell("x = 1"),
        new_code_cell("#@save\ndef area(r):\n    ### BEGIN SOLUTION\n    return math.pi * r ** 2 * SCALE\n    ### END SOLUTION"),
    ]), notebooks / "07_demo.ipynb")
    nbformat.write(new_notebook(cells=[new_code_cell("y = 2")]), notebooks / "08_plain.ipynb")
    (lessons / "stale.py").write_text("old\n")
    export_cells.write(lessons, notebooks)
    assert sorted(p.name for p in lessons.iterdir()) == ["demo.py"]   # no module without saved cells; stale one removed
    text = (lessons / "demo.py").read_text()
    assert "by `make lessons`; edit the notebook, not this file" in text
    assert "import math\n" in text and "torch" not in text and "print" not in text and "x = 1" not in text
    assert "\n#@save" not in text and "    ### BEGIN SOLUTION\n" in text   # solution markers stay as comments
    space = {}
    exec(compile(text, "demo.py", "exec"), space)
    assert space["area"](1.0) == pytest.approx(2 * 3.141592653589793)
    assert export_cells.stale(lessons, notebooks) == []
    nb = json.loads((notebooks / "07_demo.ipynb").read_text())
    nb["cells"][1]["source"] = "#@save\nSCALE = 3.0"
    (notebooks / "07_demo.ipynb").write_text(json.dumps(nb))
    assert export_cells.stale(lessons, notebooks) == ["demo.py"]
    assert export_cells.main(["--check"]) == 0   # the repository's own modules are up to date


def test_notebook_05s_fallback_trains_notebook_03s_players():
    from helpers.lessons import dcgan
    from helpers.recipes import train_dcgan
    G = train_dcgan(1, live=False)
    G_nb = dcgan.make_players()[0]
    assert type(G) is type(G_nb) and [p.shape for p in G.parameters()] == [p.shape for p in G_nb.parameters()]


def test_lessons_read_the_mode_when_imported():
    module = importlib.import_module("helpers.lessons.dcgan")
    import helpers
    assert module.STEPS == helpers.pick(quick=64, standard=2_000, full=20_000)
