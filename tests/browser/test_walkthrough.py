"""A student's walk through the course in JupyterLab: notebook 01 run top to bottom with the live dashboard,
and training stopped with the kernel's stop button."""
import shutil
import time

from conftest import ROOT

DASHBOARD = ".jp-RenderedImage img"           # the dashboard: PNGs shown through one display handle per run
PROGRESS = ".widget-hprogress"                 # tqdm's bar in a notebook (an ipywidget)


def watch_training(lab, cell, timeout: float = 600) -> dict:
    """Poll the training cell while it runs: the most dashboards and progress bars it ever holds, and
    whether the dashboard and the bar changed in place."""
    seen = {"dashboards": 0, "bars": 0, "redrawn": False, "bar_moved": False}
    first_png = first_bar = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen["dashboards"] = max(seen["dashboards"], cell.locator(DASHBOARD).count())
        seen["bars"] = max(seen["bars"], cell.locator(PROGRESS).count())
        if first_png is None and cell.locator(DASHBOARD).count() and cell.locator(PROGRESS).count():
            first_png = lab.picture(cell.locator(DASHBOARD).first)
            first_bar = cell.locator(PROGRESS).first.inner_text()
            lab.shot("dashboard-first", cell)
        elif first_png is not None and not seen["redrawn"] and lab.kernel_status() == "busy":
            time.sleep(3)
            if cell.locator(DASHBOARD).count():
                seen["redrawn"] = lab.picture(cell.locator(DASHBOARD).first) != first_png
                seen["bar_moved"] = cell.locator(PROGRESS).first.inner_text() != first_bar
                lab.shot("dashboard-seconds-later", cell)
        if lab.cell_done(cell):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"training did not finish within {timeout:.0f} s")


def test_notebook_01_top_to_bottom(lab):
    shutil.copy(ROOT / "notebooks" / "01_vanilla_gan.ipynb", lab.server.folder)
    lab.open("01_vanilla_gan.ipynb")
    nb = lab.notebook()
    index = next(i for i, c in enumerate(nb["cells"]) if "helpers.train(" in "".join(c["source"]))
    runs = "".join(nb["cells"][index]["source"]).count("helpers.train(")
    lab.run_all()
    cell = lab.cell(index)
    seen = watch_training(lab, cell)
    lab.shot("training-done", cell)
    assert seen["redrawn"], "the dashboard did not change while training ran"
    assert seen["bar_moved"], "the progress bar did not move while training ran"
    # one dashboard and one bar per training run, updated in place: never a stack of figures
    assert seen["dashboards"] == cell.locator(DASHBOARD).count() == runs, seen
    assert seen["bars"] == runs, seen
    lab.wait_done(timeout=600)
    lab.shot("notebook-done")
    assert "Traceback" not in lab.page.locator(".jp-Notebook").inner_text()


def test_stop_button_interrupts_training(lab):
    lab.open(lab.write_notebook("interrupt.ipynb", ["""
import torch
import helpers
from helpers.recipes import gan_step

helpers.short_errors()
helpers.seed_everything(0)
data = helpers.load_mnist(quiet=True)
dev = data.train.images.device
G, D = helpers.MLPGenerator(nz=16, hidden=(64,)).to(dev), helpers.MLPDiscriminator(hidden=(64,)).to(dev)
opts = [torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999)) for m in (G, D)]
ema = helpers.EMA(G, decay=0.99)
""", """
history = helpers.train(gan_step(G, D, *opts, 16, dev, ema=ema), data.train, steps=1_000_000, batch_size=64,
                        G=ema.model, fixed_z=torch.randn(16, 16, device=dev), title="press stop")
""", """
x = ema.model.sample(8, seed=0)
print(f"sampled {tuple(x.shape)} after {history.steps} steps; interrupted: {history.interrupted}")
"""]))
    lab.run_all()
    cell = lab.cell(1)
    cell.locator(DASHBOARD).first.wait_for(timeout=120_000)
    cell.locator(PROGRESS).first.wait_for()
    lab.page.wait_for_timeout(2000)
    lab.shot("training", cell)
    lab.page.locator('[data-command="notebook:interrupt-kernel"]').first.click()   # the toolbar's stop button
    lab.wait_done(timeout=60)
    lab.shot("after-stop")
    printed = lab.output_text(1)
    assert "Interrupted after" in printed and "the models keep what they learned" in printed, printed
    sampled = lab.output_text(2)
    assert "sampled (8, 1, 28, 28)" in sampled and "interrupted: True" in sampled, sampled
