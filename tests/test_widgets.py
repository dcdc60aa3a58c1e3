"""helpers.widgets: the shared base, the GAN lab, the latent explorer and the digit picker (the restoration
lab has its own file); every widget shows a bad value as one sentence in its error line."""
from __future__ import annotations

import asyncio
import html
import re
import time

import ipywidgets as W
import pytest
import torch

import helpers
from helpers import CourseError
from helpers.models import DCGANGenerator, MLPGenerator
from helpers.widgets import DigitPicker, GANLab, LatentExplorer, RestorationLab
from helpers.widgets.base import ERROR_CLASS, STATUS_CLASS

PNG = b"\x89PNG\r\n\x1a\n"


def controls(widget) -> dict[str, W.Widget]:
    """Every control in a widget's box by its description (what a person, or a browser test, reads)."""
    found, todo = {}, [widget.widget]
    while todo:
        w = todo.pop()
        todo.extend(getattr(w, "children", ()))
        if isinstance(w, (W.ValueWidget, W.Button)) and getattr(w, "description", ""):
            assert w.description not in found, f"two controls are called {w.description!r}"
            found[w.description] = w
    return found


def one_sentence(widget) -> str:
    """The error line's text; it must be one sentence, shown inside the widget."""
    assert ERROR_CLASS in widget.message._dom_classes and widget.message in descendants(widget.widget)
    text = html.unescape(re.sub(r"<[^>]+>", "", widget.message.value))
    assert text and widget.error and widget.error in text, widget.message.value
    assert "\n" not in text and "Traceback" not in text and widget.error.rstrip(")").endswith("."), text
    return text


def descendants(box):
    out = [box]
    for child in getattr(box, "children", ()):
        out.extend(descendants(child))
    return out


def echo_restore(y, op, steps, callback=None, every=10):
    return y.clamp(0, 1)


# --------------------------------------------------------------------------- every widget
def make(kind):
    if kind == "gan lab":
        return GANLab(steps_per_frame=5)
    if kind == "latent explorer":
        return LatentExplorer(MLPGenerator(nz=8, hidden=(16,)), choices=6, directions=2)
    if kind == "digit picker":
        return DigitPicker(DCGANGenerator(nz=8, ngf=4, num_classes=10), count=4)
    x = torch.zeros(3, 1, 28, 28)
    x[:, :, 6:22, 12:16] = 1.0
    return RestorationLab(x, echo_restore, steps=20)


# kind -> (a bad value set from the page, a bad value set from code, words of the sentence)
BAD = {
    "gan lab": (("D learning rate", 0.0), {"steps": -1}, "learning rate must be a positive number"),
    "latent explorer": (("sample B", 0), {"t": 1.5}, "two different samples"),
    "digit picker": (None, {"digit": 10}, "not a digit this generator knows"),
    "restoration lab": (("box height", 0), {"digit": 7}, "box mask is empty"),
}
CODE_WORDS = {"gan lab": "steps must be a whole number", "latent explorer": "must lie between 0",
              "digit picker": "not a digit", "restoration lab": "out of range"}


@pytest.mark.parametrize("kind", list(BAD))
def test_each_widget_shows_a_bad_value_as_one_sentence(kind):
    w = make(kind)
    assert w.message.value == "" and w.error is None
    assert "application/vnd.jupyter.widget-view+json" in w._repr_mimebundle_()   # displays as its box
    from_page, from_code, words = BAD[kind]
    if kind == "restoration lab":
        controls(w)["mask"].value = "box"
    if from_page:                                  # a person sets a bad value with the control itself
        description, value = from_page
        controls(w)[description].value = value
        assert words in one_sentence(w)
    with pytest.raises(CourseError, match=CODE_WORDS[kind]):   # from code: shown in the widget and raised
        w.set(**from_code) if kind != "gan lab" else w.run(**from_code)
    assert CODE_WORDS[kind] in one_sentence(w)
    w.close()


@pytest.mark.parametrize("kind", list(BAD))
def test_each_widget_draws_png_and_names_its_controls(kind):
    w = make(kind)
    images = [c for c in descendants(w.widget) if isinstance(c, W.Image) and c.value]
    assert images and all(bytes(i.value).startswith(PNG) for i in images)
    expected = {
        "gan lab": {"target", "G loss", "D steps per G step", "D learning rate", "G learning rate", "steps per frame",
                    "play", "pause", "step", "reset"},
        "latent explorer": {"sample A", "sample B", "A → B", "path", "direction 1", "direction 2"},
        "digit picker": {"digit", "noise seed"},
        "restoration lab": {"digit", "degradation", "strength", "mask", "box top", "box left", "box height",
                            "box width", "steps", "Restore"},
    }[kind]
    assert set(controls(w)) == expected
    for status in [c for c in descendants(w.widget) if STATUS_CLASS in getattr(c, "_dom_classes", ())]:
        assert status is w.status
    w.close()


def test_the_notebooks_entry_points():
    assert isinstance(helpers.gan_lab(target="two moons"), GANLab)
    assert isinstance(helpers.latent_explorer(MLPGenerator(nz=8, hidden=(16,)), seed=3), LatentExplorer)
    assert isinstance(helpers.digit_picker(DCGANGenerator(nz=8, ngf=4, num_classes=10), digit=8, seed=0), DigitPicker)


def test_a_crash_in_a_callback_shows_in_the_widget():
    ex = make("latent explorer")

    def broken(*_args, **_kwargs):
        raise RuntimeError("the generator broke.")

    ex._generate = broken
    controls(ex)["A → B"].value = 0.3           # the page's change reaches a broken generator
    assert one_sentence(ex) == "RuntimeError: the generator broke."


# --------------------------------------------------------------------------- the GAN lab
@pytest.fixture
def lab():
    lab = GANLab("ring of 8 Gaussians", "non-saturating", steps_per_frame=5)
    yield lab
    lab.close()
def test_lab_draws_png_into_an_image_widget(lab):
    assert bytes(lab.image.value).startswith(PNG)
    before = bytes(lab.image.value)
    lab.step()
    assert lab.gan.steps == 1 and bytes(lab.image.value).startswith(PNG) and bytes(lab.image.value) != before
    assert "step 1" in lab.status.value and lab.message.value == ""


def test_lab_run_trains_and_shows_the_last_state(lab):
    lab.run(30)
    assert lab.gan.steps == 30 and "step 30" in lab.status.value
    lab.reset()
    assert lab.gan.steps == 0 and "step 0" in lab.status.value


def test_lab_continues_a_trained_toy_gan_with_its_settings():
    from helpers.toy2d import ToyGAN

    gan = ToyGAN("two moons", "least-squares", d_steps=2, lr_d=2e-3, lr_g=5e-4, seed=3).train(20)
    lab = GANLab(gan=gan)
    try:
        assert lab.gan is gan and "step 20" in lab.status.value and bytes(lab.image.value).startswith(PNG)
        assert (lab.target_picker.value, lab.loss_picker.value, lab.d_steps_slider.value) == ("two moons", "least-squares", 2)
        assert (lab.lr_d_box.value, lab.lr_g_box.value) == (2e-3, 5e-4)
        lab.run(5)
        assert gan.steps == 25 and gan.d_steps == 2   # the same run, trained on with its own settings
        lab.reset()
        assert lab.gan.steps == 0 and lab.gan.seed == 3 and lab.gan.target.name == "two moons"
    finally:
        lab.close()
    with pytest.raises(CourseError, match="ToyGAN"):
        GANLab(gan="ring")


@pytest.mark.parametrize("box,value", [("lr_d_box", 0.0), ("lr_d_box", -0.001), ("lr_g_box", 0.0),
                                       ("lr_g_box", float("nan")), ("lr_g_box", 5.0)])
def test_lab_refuses_bad_learning_rates_with_a_message(lab, box, value):
    getattr(lab, box).value = value
    assert "Not trained" in lab.message.value and "learning rate" in lab.message.value
    lab.step()
    lab.play()
    assert lab.gan.steps == 0 and not lab.playing
    with pytest.raises(CourseError, match="learning rate"):
        lab.run(5)
    getattr(lab, box).value = 0.002  # a good value clears the message and is applied
    assert lab.message.value == ""
    lab.step()
    assert lab.gan.steps == 1
    group = (lab.gan.opt_d if box == "lr_d_box" else lab.gan.opt_g).param_groups[0]
    assert group["lr"] == 0.002


@pytest.mark.parametrize("picker,text", [("target_picker", "Pick a target"), ("loss_picker", "Pick a generator loss")])
def test_lab_refuses_empty_selections(lab, picker, text):
    getattr(lab, picker).value = None
    assert text in lab.message.value
    lab.step()
    assert lab.gan.steps == 0


def test_lab_changing_target_or_loss_starts_again(lab):
    lab.run(10)
    lab.target_picker.value = "two moons"
    assert lab.gan.target.name == "two moons" and lab.gan.steps == 0
    lab.run(5)
    lab.loss_picker.value = "least-squares"
    assert lab.gan.loss.name == "least-squares" and lab.gan.steps == 0
    lab.d_steps_slider.value = 3
    lab.step()
    assert lab.gan.d_steps == 3 and len(lab.gan.history["loss_d"]) == 1


def test_lab_frames_take_a_fraction_of_a_second(lab):
    for _ in range(3):
        lab.frame()
    assert lab.gan.steps == 15
    assert min(lab.frame_seconds) < 1.0, lab.frame_seconds


def test_lab_play_and_pause_without_an_event_loop(lab):
    lab.play()  # no running asyncio loop here: plays in a thread
    assert lab.playing and lab.play_button.disabled
    deadline = time.time() + 20
    while lab.gan.steps < 10 and time.time() < deadline:
        time.sleep(0.05)
    lab.pause()
    lab._task.join(timeout=10)
    assert lab.gan.steps >= 10 and not lab.playing and not lab.play_button.disabled
    assert "playing" not in lab.status.value, lab.status.value   # the status line says so at once
    steps = lab.gan.steps
    time.sleep(0.3)
    assert lab.gan.steps == steps  # paused means paused


def test_lab_plays_as_a_task_in_a_running_event_loop(lab):
    async def click_play_then_pause():   # in a kernel the clicks arrive on its event loop
        lab.play_button.click()
        assert isinstance(lab._task, asyncio.Task) and lab.playing
        while lab.gan.steps < 10:
            await asyncio.sleep(0.05)
        lab.pause_button.click()
        await lab._task

    asyncio.run(asyncio.wait_for(click_play_then_pause(), timeout=30))
    assert lab.gan.steps >= 10 and not lab.playing and not lab.play_button.disabled and lab.error is None
    assert "playing" not in lab.status.value, lab.status.value


def test_lab_buttons_are_wired(lab):
    lab.step_button.click()
    assert lab.gan.steps == 1
    lab.reset_button.click()
    assert lab.gan.steps == 0


def test_lab_steps_show_in_its_status_line(lab):
    assert STATUS_CLASS in lab.status._dom_classes
    assert re.search(r"step 0 · \d/8 modes", lab.status.value)
    lab.run(7)
    assert re.search(r"step 7 · \d/8 modes", lab.status.value)


# --------------------------------------------------------------------------- the latent explorer
def test_explorer_renders_and_refuses_bad_values():
    ex = LatentExplorer(MLPGenerator(nz=8, hidden=(16,)), choices=6, directions=2)
    first = ex.image.value
    assert first[:4] == b"\x89PNG"
    ex.set(a=1, b=4, t=0.2, path="linear", nudges=[0.5, -1.0])
    assert ex.image.value != first and ex.message.value == ""
    ex.set(b=1)
    assert "two different samples" in ex.message.value
    for bad in ({"a": 6}, {"a": True}, {"t": 1.5}, {"path": "curvy"}, {"nudges": [9, 0]}, {"nudges": [1]},
                {"nudges": ["x", 0]}):
        with pytest.raises(helpers.CourseError):
            ex.set(**bad)
        assert ex.error in ex.message.value
    ex.set(b=4)
    assert ex.message.value == "" and ex.error is None

# --------------------------------------------------------------------------- the digit picker
def test_digit_picker_generates_and_refuses_bad_values():
    picker = DigitPicker(DCGANGenerator(nz=8, ngf=4, num_classes=10), digit=8, count=4)
    first = picker.image.value
    assert first[:4] == b"\x89PNG" and "digit 8" in picker.status.value and picker.message.value == ""
    picker.set(digit=3, seed=5)
    assert picker.image.value != first and "digit 3, noise seed 5" in picker.status.value
    for bad in ({"digit": 10}, {"digit": -1}, {"digit": "8"}, {"seed": 100}, {"seed": 1.5}):
        with pytest.raises(helpers.CourseError, match="choose 0 to 9|from 0 to 99"):
            picker.set(**bad)
        assert picker.error in picker.message.value and "digit 3, noise seed 5" in picker.status.value
    with pytest.raises(helpers.CourseError, match="conditional generator"):
        DigitPicker(MLPGenerator(nz=8, hidden=(16,)))
