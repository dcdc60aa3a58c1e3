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
