import numpy as np
import pytest
import scipy.linalg
import torch

import helpers
from helpers import digit_classifier as DC
from helpers.data import check_images
from helpers.metrics import embed, features, frechet_distance


def test_check_images_messages():
    with pytest.raises(helpers.CourseError, match=r"must be \(n, 1, 28, 28\)"):
        check_images(torch.zeros(4, 3, 28, 28))
    with pytest.raises(helpers.CourseError, match=r"unsqueeze\(1\)"):
        check_images(torch.zeros(4, 28, 28))
    with pytest.raises(helpers.CourseError, match=r"to_unit"):
        check_images(torch.full((4, 1, 28, 28), -1.0))
    with pytest.raises(helpers.CourseError, match="NaN"):
        check_images(torch.full((4, 1, 28, 28), float("nan")))
    assert check_images(torch.full((4, 1, 28, 28), -1.0), unit=False).shape == (4, 1, 28, 28)  # the operators' range
    assert check_images(torch.zeros(28, 28)).shape == (1, 1, 28, 28)


def test_too_few_samples_for_a_frechet_distance():
    with pytest.raises(helpers.CourseError, match="at least 128 samples"):
        helpers.quality(torch.rand(50, 1, 28, 28))


def test_frechet_distance_matches_direct_float64_computation():
    torch.manual_seed(0)
    clf = DC.Classifier().eval()
    a, b = torch.rand(300, 1, 28, 28), torch.rand(200, 1, 28, 28) ** 2
    with torch.no_grad():
        fa, fb = clf.features(a).double().numpy(), clf.features(b).double().numpy()
    ma, mb = fa.mean(0), fb.mean(0)
    ca, cb = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    direct = ((ma - mb) ** 2).sum() + np.trace(ca + cb - 2 * scipy.linalg.sqrtm(ca @ cb).real)
    assert frechet_distance(b, a, clf) == pytest.approx(direct, rel=1e-3)


@pytest.fixture(scope="module")
def meter():
    return helpers.classifier("cpu")  # trained once per data version, cached in data/


def test_classifier_is_accurate_on_heldout_digits(meter):
    data = helpers.load_mnist("cpu", quiet=True)
    assert DC.accuracy(meter, data.heldout.unit(), data.heldout.labels) > 0.95


def test_meter_separates_digits_from_junk(meter):
    data = helpers.load_mnist("cpu", quiet=True)
    real = helpers.quality(data.heldout.unit(), meter)
    noise = helpers.quality(torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0)), meter)
    half = data.heldout.unit()
    blend = helpers.quality(0.5 * half[:500] + 0.5 * half[500:], meter)  # two different digits on top of each other
    assert real.confident > 0.9 and real.min_class > 0.08 and real.fd < 1e-6
    assert noise.confident < 0.05 and blend.confident < 0.5
    assert noise.fd > 100 * max(real.fd, 1.0)
    assert abs(sum(real.class_hist) - 1) < 1e-3


def test_the_held_out_features_are_computed_once_and_give_the_same_fd(meter, monkeypatch):
    from helpers import meter as meter_module
    x = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    fd = helpers.quality(x, meter).fd
    assert fd == frechet_distance(x, helpers.load_mnist(quiet=True).heldout.unit(), meter)   # exactly the uncached number
    calls = []
    monkeypatch.setattr(meter_module, "features", lambda x01, clf: calls.append(("features", len(x01))) or features(x01, clf))
    monkeypatch.setattr(meter_module, "embed", lambda x01, clf: calls.append(("embed", len(x01))) or embed(x01, clf))
    helpers.quality(x, meter)
    # one classifier pass over the samples (features and logits together); the held-out digits' features are reused
    assert calls == [("embed", 200)]
