"""helpers.config: the seed offset GAN_COURSE_SEED, read in one place."""
import pytest
import torch

from helpers import config


def draws(seed, **kw):
    config.seed_everything(seed, **kw)
    return torch.rand(3)


def test_without_the_variable_a_seed_means_itself(monkeypatch):
    monkeypatch.delenv("GAN_COURSE_SEED", raising=False)
    torch.manual_seed(5)
    expected = torch.rand(3)
    assert torch.equal(draws(5), expected)
    assert config.run_seed() == 0


def test_the_offset_is_added_to_every_seed(monkeypatch):
    monkeypatch.setenv("GAN_COURSE_SEED", "2")
    shifted = draws(1)
    monkeypatch.setenv("GAN_COURSE_SEED", "0")
    assert torch.equal(shifted, draws(3))
    assert not torch.equal(shifted, draws(1))


def test_the_classifier_seed_does_not_move(monkeypatch):
    monkeypatch.setenv("GAN_COURSE_SEED", "7")
    fixed = draws(0, vary=False)
    monkeypatch.setenv("GAN_COURSE_SEED", "0")
    assert torch.equal(fixed, draws(0))


@pytest.mark.parametrize("value", ["-1", "one", "1.5"])
def test_a_bad_offset_gets_one_sentence(monkeypatch, value):
    monkeypatch.setenv("GAN_COURSE_SEED", value)
    with pytest.raises(config.CourseError, match="GAN_COURSE_SEED=.* is not a whole number"):
        config.seed_everything(0)


# GAN_COURSE_PRECISION: the models' number format, read in one place (helpers.config.precision).

@pytest.mark.parametrize("value, expected", [("fp32", "fp32"), ("FP32", "fp32"), ("bf16", "bf16"), (" bf16 ", "bf16")])
def test_a_named_precision_is_used_as_given(monkeypatch, value, expected):
    monkeypatch.setenv("GAN_COURSE_PRECISION", value)
    assert config.precision("cpu") == expected


def test_auto_picks_bfloat16_only_on_a_cpu_that_has_it(monkeypatch):
    monkeypatch.delenv("GAN_COURSE_PRECISION", raising=False)
    monkeypatch.setattr(config, "cpu_has_native_bf16", lambda: True)
    assert config.precision("cpu") == "bf16"
    assert config.precision("cuda") == "fp32"    # GPUs keep float32: the course's models are small for them
    monkeypatch.setattr(config, "cpu_has_native_bf16", lambda: False)
    assert config.precision("cpu") == "fp32"


def test_a_bad_precision_gets_one_sentence(monkeypatch):
    monkeypatch.setenv("GAN_COURSE_PRECISION", "half")
    with pytest.raises(config.CourseError, match=r"GAN_COURSE_PRECISION='half' is not a precision; set it to one of auto, fp32, bf16\."):
        config.precision("cpu")
    with pytest.raises(config.CourseError, match="precision 'fp16' is not one of"):
        with config.using_precision("fp16"):
            pass


def test_using_precision_overrides_the_environment_and_restores_it(monkeypatch):
    monkeypatch.setenv("GAN_COURSE_PRECISION", "fp32")
    with config.using_precision("bf16"):
        assert config.precision("cpu") == "bf16"
        with config.using_precision("fp32"):
            assert config.precision("cpu") == "fp32"
        assert config.precision("cpu") == "bf16"
    assert config.precision("cpu") == "fp32"
    assert config.autocast(torch.device("cpu")) is None
