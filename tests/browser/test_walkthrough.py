"""A student's walk through the course in JupyterLab: notebook 01 run top to bottom with the live dashboard,
and training stopped with the kernel's stop button."""
import shutil
import time

from conftest import ROOT

DASHBOARD = ".jp-RenderedImage img"           # the dashboard: PNGs shown through one display handle per run
PROGRESS = ".widget-hbox:has(> .widget-hprogress)"   # tqdm's bar in a notebook: label, bar, "n/total [time]"


def shown_png(cell) -> str:
    """The PNG the first dashboard shows now (its data URL): it changes when the dashboard is redrawn."""
    return cell.locator(DASHBOARD).first.get_attribute("src")


def watch_training(lab, cell, runs: int, timeout: float = 1200) -> dict:
    """Poll the training cell until it has run: the most dashboards and progress bars it ever held (more
    than one per training run fails at once), and whether the first dashboard and bar changed in place."""
    seen = {"dashboards": 0, "bars": 0, "redrawn": False, "bar_moved": False}
    first = None
    deadline = time.monotonic() + timeout
    while not lab.cell_done(cell):
        if time.monotonic() > deadline:
            raise AssertionError(f"training did not finish within {timeout:.0f} s")
        seen["dashboards"] = max(seen["dashboards"], cell.locator(DASHBOARD).count())
        seen["bars"] = max(seen["bars"], cell.locator(PROGRESS).count())
        if seen["dashboards"] > runs or seen["bars"] > runs:
            lab.shot("stacked-outputs", cell)
            raise AssertionError(f"{runs} training runs left a stack of outputs instead of updating in place: {seen}")
        if seen["dashboards"] and seen["bars"] and not seen["redrawn"]:
            now = (shown_png(cell), cell.locator(PROGRESS).first.inner_text())
            if first is None:
                first = now
                lab.shot("dashboard-first", cell)
            elif now[0] != first[0] and now[1] != first[1]:
                seen["redrawn"] = seen["bar_moved"] = True
                lab.shot("dashboard-later", cell)
        time.sleep(0.5)
    return seen


def test_notebook_01_top_to_bottom(lab):
    shutil.copy(ROOT / "notebooks" / "01_vanilla_gan.ipynb", lab.server.folder)
    lab.open("01_vanilla_gan.ipynb")
    nb = lab.notebook()
    index = next(i for i, c in enumerate(nb["cells"]) if "helpers.train(" in "".join(c["source"]))
    runs = "".join(nb["cells"][index]["source"]).count("helpers.train(")
    lab.run_all()
    cell = lab.cell(index)
    seen = watch_training(lab, cell, runs)
    lab.shot("training-done", cell)
    assert seen["redrawn"], "the dashboard and the progress bar did not change in place while training ran"
    # one dashboard and one bar per training run, updated in place: never a stack of figures
    assert seen["dashboards"] == cell.locator(DASHBOARD).count() == runs, seen
    assert seen["bars"] == runs, seen
    lab.wait_done(timeout=1200)
    lab.shot("notebook-done")
    assert "Traceback" not in lab.page.locator(".jp-Notebook").inner_text()


def test_stop_button_interrupts_training(lab):
    lab.open(lab.write_notebook("interrupt.ipynb", ["""
import torch
import helpers
from helpers.lessons.vanilla_gan import update_D, update_G   # notebook 01's own step functions

helpers.short_errors()
helpers.seed_everything(0)
data = helpers.load_mnist(quiet=True)
dev = data.train.images.device
G, D = helpers.MLPGenerator(nz=16, hidden=(64,)).to(dev), helpers.MLPDiscriminator(hidden=(64,)).to(dev)
opt_G, opt_D = [torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999)) for m in (G, D)]
ema = helpers.EMA(G, decay=0.99)

def step(real, labels):
    fake = G(torch.randn(len(real), 16, device=dev))
    loss_d, d_x, d_g_z1 = update_D(D, opt_D, real, fake)
    loss_g, d_g_z2, _ = update_G(G, D, opt_G, fake)
    ema.update(G)
    return {"loss_d": loss_d, "loss_g": loss_g, "d_x": d_x, "d_g_z1": d_g_z1, "d_g_z2": d_g_z2}
""", """
history = helpers.train(step, data.train, steps=1_000_000, batch_size=64,
                        G=ema.model, fixed_z=torch.randn(16, 16, device=dev), title="press stop")
""", """
x = ema.model.sample(8, seed=0)
print(f"sampled {tuple(x.shape)} after {history.steps} steps; interrupted: {history.interrupted}")
"""]))
    lab.run_all()
    cell = lab.cell(1)
    cell.locator(DASHBOARD).first.wait_for(timeout=120_000)
    cell.locator(PROGRESS).first.wait_for()
    first = shown_png(cell)
    lab.shot("training", cell)
    deadline = time.monotonic() + 300
    while shown_png(cell) == first:       # the live dashboard redraws in place while training runs
        assert time.monotonic() < deadline, "the dashboard was not redrawn while training ran"
        time.sleep(0.5)
    assert cell.locator(DASHBOARD).count() == 1
    lab.shot("training-later", cell)
    lab.page.locator('.jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]').first.click()   # stop (■)
    lab.wait_done(timeout=60)
    lab.shot("after-stop")
    printed = lab.output_text(1)
    assert "Interrupted after" in printed and "the models keep what they learned" in printed, printed
    sampled = lab.output_text(2)
    assert "sampled (8, 1, 28, 28)" in sampled and "interrupted: True" in sampled, sampled
