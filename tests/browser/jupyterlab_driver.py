"""Drive a JupyterLab page as a student does: open a notebook, run it, click widgets, read outputs.

The notebook's state (outputs, execution counts, kernel status) is read from JupyterLab's own model
(``window.jupyterapp``, exposed by the test server); what a person sees is checked in the page and saved
as screenshots.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

PANEL = "window.jupyterapp.shell.currentWidget"


class Lab:
    def __init__(self, page, server, shot_dir: Path):
        self.page, self.server, self.shot_dir = page, server, shot_dir
        self.shots = 0

    # -- notebooks
    def write_notebook(self, name: str, cells: list[str]) -> str:
        """A notebook of code cells in the server's folder; returns its name."""
        nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [],
                         "source": src.strip()} for i, src in enumerate(cells)],
              "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                           "language_info": {"name": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
        (self.server.folder / name).write_text(json.dumps(nb, indent=1))
        return name

    def open(self, name: str) -> None:
        """Open the notebook in JupyterLab and wait until its kernel is idle."""
        # ?reset: a fresh workspace, so the page does not reopen the notebooks of earlier tests
        self.page.goto(f"{self.server.url}/lab/tree/{name}?reset&token={self.server.token}")
        self.page.wait_for_function(f"() => window.jupyterapp && {PANEL} && {PANEL}.context && "
                                    f"{PANEL}.context.path === {json.dumps(name)}", timeout=60_000)
        self.page.evaluate(f"async () => {{ await {PANEL}.context.ready; await {PANEL}.sessionContext.ready; }}")
        self.page.wait_for_function(f"() => {PANEL}.sessionContext.session?.kernel?.status === 'idle'", timeout=60_000)

    def command(self, name: str) -> None:
        """Start one of JupyterLab's commands (as a menu item or a shortcut does); wait_done() waits for the cells."""
        self.page.evaluate(f"() => {{ window.jupyterapp.commands.execute({json.dumps(name)}); }}")

    def run_all(self) -> None:
        """Run > Run All Cells."""
        self.command("notebook:run-all-cells")

    def run_cell(self, index: int) -> None:
        """Select the cell and run it (Ctrl-Enter)."""
        self.page.evaluate(f"() => {{ {PANEL}.content.activeCellIndex = {index}; }}")
        self.command("notebook:run-cell")

    def notebook(self) -> dict:
        return self.page.evaluate(f"() => {PANEL}.context.model.toJSON()")

    def kernel_status(self) -> str:
        return self.page.evaluate(f"() => {PANEL}.sessionContext.session?.kernel?.status")

    def wait_done(self, cells: range | None = None, timeout: float = 180) -> dict:
        """Wait until the given code cells (default: all) have run and the kernel is idle; a cell that
        raised fails the test with its error. Returns the notebook's JSON."""
        deadline = time.monotonic() + timeout
        while True:
            nb = self.notebook()
            chosen = [c for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (cells is None or i in cells)]
            for c in chosen:
                for out in c["outputs"]:
                    if out["output_type"] == "error":
                        self.shot("error")
                        raise AssertionError(f"cell {c['source'][:60]!r} raised {out['ename']}: {out['evalue']}")
            if all(c["execution_count"] for c in chosen) and self.kernel_status() == "idle":
                return nb
            if time.monotonic() > deadline:
                self.shot("timeout")
                raise AssertionError(f"the notebook did not finish within {timeout:.0f} s")
            time.sleep(0.5)

    def output_text(self, index: int) -> str:
        """What cell ``index`` printed: streams, plain-text results and errors."""
        parts = []
        for out in self.notebook()["cells"][index]["outputs"]:
            if out["output_type"] == "stream":
                parts.append("".join(out["text"]))
            elif out["output_type"] in ("execute_result", "display_data"):
                parts.append("".join(out["data"].get("text/plain", "")))
            elif out["output_type"] == "error":
                parts.append(f"{out['ename']}: {out['evalue']}")
        return "".join(parts)

    # -- the page
    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def cell_done(self, cell) -> bool:
        """The cell's prompt shows an execution count: it ran and finished (``[*]`` while it runs)."""
        return bool(re.search(r"\[\d+\]", cell.locator(".jp-InputPrompt").first.inner_text()))

    def widget(self, kind: str, description: str, within=None):
        """The ipywidget of CSS class ``widget-<kind>`` whose description reads ``description``."""
        label = self.page.locator("label.widget-label", has_text=re.compile(f"^{re.escape(description)}$"))
        return (within or self.page).locator(f".widget-{kind}", has=label).first

    def button(self, text: str, within=None):
        return (within or self.page).locator("button.jupyter-button", has_text=re.compile(f"^\\s*{re.escape(text)}\\s*$")).first

    def set_slider(self, description: str, value, within=None) -> None:
        """Type a value into a slider's readout and press Enter, as a person can instead of dragging."""
        readout = self.widget("slider", description, within).locator(".widget-readout")
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(str(value))
        self.page.keyboard.press("Enter")

    def picture(self, locator) -> bytes:
        """A screenshot of what the element shows now (the bytes change when the picture does)."""
        from playwright.sync_api import Error

        for _ in range(4):
            try:
                locator.scroll_into_view_if_needed()
                return locator.screenshot(animations="disabled")
            except Error as err:   # an output updated in place is a new element: take the new one
                if "not attached" not in str(err):
                    raise
        return locator.screenshot(animations="disabled")

    def wait_changed(self, locator, before: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.picture(locator)
            if now != before:
                return now
            time.sleep(0.3)
        raise AssertionError("the picture did not change")

    def shot(self, name: str, locator=None) -> Path:
        """Save a screenshot (of the page, or of one element) for a person to look at."""
        self.shot_dir.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = self.shot_dir / f"{self.shots:02d}-{name}.png"
        (locator or self.page).screenshot(path=str(path))
        return path
