"""helpers.widgets.restoration_lab (notebook 05) and the fallback generator the notebook loads."""
import pytest
import torch

import helpers
from helpers import restore as R
from helpers.recipes import generator_or_train, train_dcgan
from helpers.widgets.restoration_lab import RestorationLab, make_operator


def digits(n=3):
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 6:22, 12:16] = 1.0   # a vertical bar, a crude "1"
    return x


def echo_restore(y, op, steps, callback=None, every=10):
    """A stand-in for the notebook's search: reports progress twice, returns the measurement."""
    for step in (0, steps):
        if callback is not None:
            callback(step, y, 0.5)
    return y.clamp(0, 1)


def test_operators_by_kind():
    assert isinstance(make_operator("noise", 0.3), R.AddNoise)
    blur = make_operator("blur", 1.5)
    assert isinstance(blur, R.Compose) and isinstance(next(iter(blur)), R.GaussianBlur)
    half = make_operator("mask", 0.5, mask="top half")
    assert half.observed[0, 0, :14].sum() == 0 and half.observed[0, 0, 14:].all()
    box = make_operator("mask", 0.5, mask="box", box=(2, 3, 4, 5))
    assert int((~box.observed).sum()) == 20
    rand = make_operator("mask", 0.25, mask="random pixels")
    assert int((~rand.observed).sum()) == round(0.25 * 784)


@pytest.mark.parametrize("kwargs, words", [
    ({"kind": "smudge", "strength": 0.3}, "degradation"),
    ({"kind": "noise", "strength": 1.5}, "from 0.05 to 1"),
    ({"kind": "blur", "strength": float("nan")}, "blur"),
    ({"kind": "mask", "strength": 0.5, "mask": "circle"}, "mask"),
    ({"kind": "mask", "strength": 0.5, "mask": "box", "box": (4, 4, 0, 10)}, "empty"),
    ({"kind": "mask", "strength": 0.5, "mask": "box", "box": (0, 0, 28, 28)}, "no pixel"),
    ({"kind": "mask", "strength": 0.5, "mask": "box", "box": (20, 20, 10, 10)}, "inside"),
])
def test_bad_settings_get_one_sentence(kwargs, words):
    with pytest.raises(helpers.CourseError, match=words):
        make_operator(**kwargs)


def test_lab_runs_scores_and_keeps_its_last_state():
    x = digits()
    lab = RestorationLab(x, echo_restore, steps=20)
    assert lab.images.value[:4] == b"\x89PNG" and "Restore" in lab.status.value and lab.error is None
    lab.set(digit=1, degradation="noise", strength=0.2)
    assert lab.w_strength.value == 0.2 and lab.w_mask.disabled
    scores = lab.run()
    assert set(scores) == {"restored", "baseline"}
    assert scores["restored"][0] < 30        # the echo returns the noisy digit: a poor PSNR, but a number
    assert lab.status.value.startswith("done")
    lab.set(degradation="mask", mask="box", box=(0, 0, 4, 4))   # hides background only
    assert not lab.w_box[0].disabled
    assert lab.run()["restored"][0] == float("inf")               # so the echo is exact


def test_lab_refuses_bad_values_from_code_and_from_the_controls():
    lab = RestorationLab(digits(), echo_restore)
    for bad in ({"digit": 3}, {"digit": True}, {"steps": 5}, {"degradation": "smudge"},
                {"degradation": "blur", "strength": 9.0}, {"degradation": "mask", "mask": "box", "box": (5, 5, 0, 3)}):
        with pytest.raises(helpers.CourseError):
            lab.set(**bad)
    lab.set(degradation="mask", mask="box")
    lab.w_box[2].value = 0                      # a student drags the height to 0
    assert "empty" in lab.message.value
    assert lab.run() is None and "empty" in lab.message.value
    lab.run_button.click()                      # the button too: refused in the widget, nothing raised
    assert "empty" in lab.message.value and "Restore" in lab.status.value
    lab.w_box[2].value = 5
    assert lab.message.value == "" and lab.error is None and lab.status.value.startswith("mask")


def test_lab_strength_slider_follows_the_degradation():
    lab = RestorationLab(digits(), echo_restore)
    assert lab.w_strength.description == "strength" and lab.strength_unit.value.startswith("hidden share")
    lab.w_kind.value = "blur"
    assert (lab.w_strength.value, lab.w_strength.min, lab.w_strength.max) == (1.5, 0.5, 3.0)
    assert lab.strength_unit.value == "blur σ (px), 0.5 to 3" and lab.status.value.startswith("Gaussian blur")
    assert lab.w_mask.disabled and all(w.disabled for w in lab.w_box)


def test_lab_needs_digit_images():
    with pytest.raises(helpers.CourseError, match=r"\(n, 1, 28, 28\)"):
        RestorationLab(torch.zeros(28, 28), echo_restore)


def test_fallback_trains_when_the_checkpoint_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_COURSE_CHECKPOINTS", str(tmp_path))
    G, note = generator_or_train(fallback_steps=2)   # by default notebook 03's clustered model, as notebook 05
    assert "No checkpoint 'dcgan_clusters'" in note and "notebooks/03_dcgan.ipynb" in note
    assert "trains a short plain DCGAN (2 steps)" in note and note in capsys.readouterr().out
    assert G.kind == "dcgan" and not G.training and G.meta["fallback"] and G.meta["steps"] == 2
    helpers.save_generator("dcgan", G, steps=2)        # the plain DCGAN's name does not stand in for the clustered one
    assert "No checkpoint 'dcgan_clusters'" in generator_or_train(fallback_steps=1)[1]
    for name in ("dcgan", "dcgan_clusters"):
        helpers.save_generator(name, G, steps=2)
        G2, note2 = generator_or_train(name, fallback_steps=2)
        assert note2.startswith(f"Loaded the '{name}' checkpoint (2 steps")
        assert torch.equal(G2.sample(4, seed=0), G.sample(4, seed=0))


def test_fallback_refuses_a_bad_step_count():
    with pytest.raises(helpers.CourseError, match="steps"):
        train_dcgan(0)
