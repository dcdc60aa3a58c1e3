"""Checks on the repository itself: dependencies agree, notebooks are clean, CI runs the README's command."""
import json
import re
try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli
    import tomli as tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_environment_yml_matches_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    text = (ROOT / "environment.yml").read_text()
    pip_block = text.split("- pip:", 1)[1]
    yml = [line.strip()[2:].strip() for line in pip_block.splitlines() if line.strip().startswith("- ")]
    assert sorted(yml) == sorted(deps), "environment.yml's pip list and pyproject.toml's dependencies differ"


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_clean(path):
    nb = json.loads(path.read_text())
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name} carries outputs in cells {dirty}: clear them before committing (the reports carry outputs)"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert nb["metadata"].get("course", {}).get("summary"), f"{path.name} needs metadata.course.summary for the reports index"
    no_id = [i for i, c in enumerate(nb["cells"]) if "id" not in c]
    assert not no_id, f"{path.name}: cells {no_id} have no id (nbformat 4.5 needs one; nbformat.validator.normalize adds them)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_with_run_times_and_closes_with_a_summary(path):
    cells = json.loads(path.read_text())["cells"]
    first, last = "".join(cells[0]["source"]), "".join(cells[-1]["source"])
    assert first.startswith("# ") and "quick" in first and "standard" in first
    assert "Summary" in last and "try" in last.lower()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^(make \w+)\s", readme.split("```", 2)[1], flags=re.M)
    assert commands[:2] == ["make reports", "make test"], commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M), ".ci/run must call `make test` exactly as the README says"
