"""Export the notebooks' saved cells to ``helpers/lessons/``, so later code reuses them instead of copying them.

A code cell whose first line is ``#@save`` is saved (as in the d2l book). ``python -m tools.export_cells``
(``make lessons``) writes the saved cells of ``notebooks/NN_name.ipynb``, in order, to
``helpers/lessons/name.py``, after the notebook's own import statements that those cells use; the ``#@save``
line is dropped, every other line (comments included) is kept as written. The benchmarks, notebook 05's
fallback training and the tests import these modules; ``tests/test_lessons.py`` fails when a committed module
no longer matches its notebook. A notebook with no saved cell has no module.

Saved cells must run without side effects (no seeding, printing, training or data loading), because importing
the module runs them: keep those lines in an unsaved cell.
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LESSONS = ROOT / "helpers" / "lessons"
MARK = "#@save"


def module_name(notebook: Path) -> str:
    """``notebooks/03_dcgan.ipynb`` -> ``dcgan``."""
    return notebook.stem.split("_", 1)[1]


def _code_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def _is_saved(source: str) -> bool:
    return source.lstrip().split("\n", 1)[0].strip() == MARK


def _used_names(code: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Name)}


def _imports(cells: list[str], used: set[str]) -> list[str]:
    """The notebook's top-level import statements (as written) that bind a name the saved code uses."""
    lines = []
    for source in cells:
        try:
            tree = ast.parse(source)
        except SyntaxError:   # IPython syntax (%magic, !shell) in an unsaved cell: it holds no import to reuse
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                bound = {(a.asname or a.name).split(".")[0] for a in node.names}
                text = ast.get_source_segment(source, node)
                if bound & used and text not in lines:
                    lines.append(text)
    return lines


def render(notebook: Path) -> str | None:
    """The module text for ``notebook``'s saved cells, or None when it has none."""
    cells = _code_cells(notebook)
    saved = [s.lstrip().split("\n", 1)[1].strip("\n") if "\n" in s.lstrip() else "" for s in cells if _is_saved(s)]
    if not saved:
        return None
    body = "\n\n\n".join(s for s in saved if s)
    rel = notebook.relative_to(ROOT).as_posix() if notebook.is_relative_to(ROOT) else notebook.name
    header = (f'"""Generated from {rel} by `make lessons`; edit the notebook, not this file.\n\n'
              f"The notebook's saved cells (first line ``{MARK}``), in order, after the imports they use.\n\"\"\"")
    imports = _imports(cells, _used_names(body))
    return "\n".join([header, *imports, "", "", body]) + "\n"


def expected(notebooks_dir: Path = NOTEBOOKS) -> dict[str, str]:
    """``{module file name: text}`` for every notebook with saved cells."""
    out = {}
    for path in sorted(notebooks_dir.glob("[0-9][0-9]_*.ipynb")):
        text = render(path)
        if text is not None:
            out[f"{module_name(path)}.py"] = text
    return out


def stale(lessons_dir: Path = LESSONS, notebooks_dir: Path = NOTEBOOKS) -> list[str]:
    """Modules in ``lessons_dir`` that differ from their notebook's saved cells, are missing, or have no notebook."""
    want = expected(notebooks_dir)
    have = {p.name for p in lessons_dir.glob("*.py") if p.name != "__init__.py"}
    wrong = [name for name, text in want.items()
             if not (lessons_dir / name).exists() or (lessons_dir / name).read_text(encoding="utf-8") != text]
    return sorted(wrong + [name for name in have - set(want)])


def write(lessons_dir: Path = LESSONS, notebooks_dir: Path = NOTEBOOKS) -> list[Path]:
    """Write every module (and remove modules whose notebook has no saved cell any more); return the files changed."""
    want = expected(notebooks_dir)
    changed = []
    for name, text in want.items():
        path = lessons_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    for path in lessons_dir.glob("*.py"):
        if path.name != "__init__.py" and path.name not in want:
            path.unlink()
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.export_cells", description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when a module is out of date")
    args = ap.parse_args(argv)
    if args.check:
        wrong = stale()
        for name in wrong:
            print(f"helpers/lessons/{name} differs from its notebook's saved cells: run make lessons", file=sys.stderr)
        return 1 if wrong else 0
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}" if path.exists() else f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
