import numpy as np
import pytest
import torch

import helpers
from helpers import meter
from helpers import metrics as M
from helpers.digit_classifier import predict


def direct_kid(fx: np.ndarray, fr: np.ndarray) -> float:
    """Unbiased MMD² with k(x, y) = (x·y/d + 1)³, by hand."""
    d = fx.shape[1]
    kern = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = kern(fx, fx), kern(fr, fr), kern(fx, fr)
    n, m = len(fx), len(fr)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean())


def test_kid_matches_a_direct_unbiased_mmd():
    rng = np.random.default_rng(0)
    fx, fr = rng.normal(size=(30, 5)), rng.normal(0.3, 1.2, size=(30, 5))
    # subset_size = n: every subset is the whole set in another order, so each equals the direct value
    mean, std = M.kid_from(torch.from_numpy(fx), torch.from_numpy(fr), subset_size=30, subsets=3)
    assert mean == pytest.approx(direct_kid(fx, fr), rel=1e-9) and std < 1e-9
    a, b = torch.from_numpy(fx), torch.from_numpy(rng.normal(size=(60, 5)))
    state = torch.get_rng_state()
    assert M.kid_from(a, b, subset_size=20, subsets=5, seed=1) == M.kid_from(a, b, subset_size=20, subsets=5, seed=1)
    assert torch.equal(state, torch.get_rng_state())  # the caller's random stream is left alone


def test_inception_score_matches_exp_mean_kl():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(10, 0.3), size=200)
    direct = np.exp(np.mean(np.sum(p * (np.log(p) - np.log(p.mean(0))), axis=1)))
    mean, _ = M.inception_score_from(torch.from_numpy(np.log(p)), splits=1)
    assert mean == pytest.approx(direct, rel=1e-9)
    sharp = torch.full((200, 10), -30.0)
    sharp[torch.arange(200), torch.arange(200) % 10] = 0.0
    assert M.inception_score_from(sharp, splits=1)[0] == pytest.approx(10, rel=1e-6)       # confident, all classes
    assert M.inception_score_from(torch.zeros(200, 10), splits=4)[0] == pytest.approx(1.0)  # no opinion
    assert 8 < M.inception_score_from(sharp, splits=4)[0] < 10  # random splits of 50 hold the classes unevenly


def test_precision_recall_density_coverage_on_hand_made_points():
    grid = torch.stack(torch.meshgrid(torch.arange(6.0), torch.arange(6.0), indexing="ij"), -1).reshape(-1, 2)
    assert M.precision_recall_from(grid, grid, k=3) == (1.0, 1.0)
    assert M.density_coverage_from(grid, grid, k=5)[1] == 1.0
    far = grid + 100
    assert M.precision_recall_from(far, grid, k=3) == (0.0, 0.0)
    assert M.density_coverage_from(far, grid, k=5) == (0.0, 0.0)
    # real points 0, 1, 2, 3 on a line (k=1: every radius is 1); samples at 0.5 and 10:
    real, fake = torch.tensor([[0.0], [1.0], [2.0], [3.0]]), torch.tensor([[0.5], [10.0]])
    # 0.5 lies in the balls of 0 and 1, 10 in none; the samples' radius is 9.5, which reaches every real point
    assert M.precision_recall_from(fake, real, k=1) == (0.5, 1.0)
    assert M.density_coverage_from(fake, real, k=1) == (2 / (1 * 2), 2 / 4)


@pytest.fixture(scope="module")
def clf():
    return helpers.classifier("cpu")


@pytest.fixture(scope="module")
def digits():
    data = helpers.load_mnist("cpu", quiet=True)
    held = data.heldout.unit()
    perm = torch.randperm(len(held), generator=torch.Generator().manual_seed(0))
    return held[perm[:500]], held[perm[500:1000]], data.train.unit()


def test_fd_of_identical_sets_is_zero_and_agrees_with_the_meter(clf, digits):
    a, b, _ = digits
    assert M.frechet_distance(a, a, clf) < 1e-6
    held = helpers.load_mnist("cpu", quiet=True).heldout.unit()
    assert meter.quality(a, clf).fd == pytest.approx(M.frechet_distance(a, held, clf), rel=1e-9)
    f = M.features(a[:10], clf)
    assert f.shape == (10, 64) and f.dtype == torch.float32


def test_embed_and_predict_in_chunks_match_one_pass(clf, digits):
    # embed and predict read CHUNK images at a time; the pieces must come back whole and in order
    x = digits[0][:300]
    whole, pieces = M.embed(x, clf, chunk=len(x)), M.embed(x, clf, chunk=7)
    assert whole.features.shape == (300, 64) and whole.logits.shape == (300, 10)
    assert torch.allclose(whole.features, pieces.features, atol=1e-5)
    assert torch.allclose(whole.logits, pieces.logits, atol=1e-5)
    assert torch.allclose(predict(clf, x, chunk=len(x)), predict(clf, x, chunk=7), atol=1e-6)


def test_real_halves_score_well_and_noise_badly(clf, digits):
    a, b, train = digits
    noise = torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    real = M.evaluate(a, b, train01=train, kid_subsets=10, clf=clf)
    junk = M.evaluate(noise, b, kid_subsets=10, clf=clf)
    assert real.n == junk.n == 500 and real.n_ref == 500 and junk.memorized is None
    assert real.fd < 20 and junk.fd > 20 * real.fd
    assert abs(real.kid) < 0.05 * junk.kid
    assert real.inception_score > 8 and junk.inception_score < 1.5
    assert min(real.precision, real.recall, real.coverage) > 0.75 and 0.7 < real.density < 1.3
    assert max(junk.precision, junk.recall, junk.density, junk.coverage) < 0.05
    assert min(real.class_hist) > 0.05 and sum(real.class_hist) == pytest.approx(1)
    assert M.class_shares(noise, clf) == junk.class_hist and max(junk.class_hist) > 0.5
    # held-out digits are as far from the training digits as other held-out digits are
    assert real.memorized < 0.15 and 0.7 < real.nn_ratio < 1.4
    assert "N=500" in str(real) and real.as_dict()["precision"] == real.precision
    assert M.evaluate(a, b, n=300, kid_subsets=2, clf=clf).n == 300


def test_memorization_flags_copies_of_training_digits(digits):
    _, b, train = digits
    copies = train[100:140]
    dist, idx = M.nearest_neighbours(copies, train, k=2)
    assert dist.shape == idx.shape == (40, 2)
    assert torch.all(dist[:, 0] == 0) and torch.all(dist[:, 1] > 0)
    assert torch.equal(train[idx[:, 0]], copies)
    assert M.memorization(copies, train, b) == (1.0, 0.0)


def one_sentence(err) -> str:
    msg = str(err.value)
    assert "\n" not in msg and msg.endswith(".")
    return msg


def test_sample_size_and_shape_errors():
    f = torch.randn(50, 4)
    with pytest.raises(helpers.CourseError, match="subset_size=100") as err:
        M.kid_from(f, f, subset_size=100)
    one_sentence(err)
    with pytest.raises(helpers.CourseError, match="k=50") as err:
        M.precision_recall_from(f, f, k=50)
    one_sentence(err)
    with pytest.raises(helpers.CourseError, match="50 reference") as err:
        M.density_coverage_from(f[:5], f, k=50)
    one_sentence(err)
    with pytest.raises(helpers.CourseError, match="at least 128") as err:
        M.frechet_distance_from(f, f)
    one_sentence(err)
    with pytest.raises(helpers.CourseError, match="10 splits") as err:
        M.inception_score_from(torch.randn(50, 10), splits=10)
    one_sentence(err)
    with pytest.raises(helpers.CourseError, match=r"must be \(n, 1, 28, 28\)") as err:
        M.evaluate(torch.rand(10, 3, 28, 28), torch.rand(10, 1, 28, 28))
    one_sentence(err)
    with pytest.raises(helpers.CourseError, match="n=20") as err:
        M.evaluate(torch.rand(10, 1, 28, 28), torch.rand(30, 1, 28, 28), n=20)
    one_sentence(err)
    with pytest.raises(helpers.CourseError, match="k=5") as err:
        M.nearest_neighbours(torch.rand(3, 1, 28, 28), torch.rand(4, 1, 28, 28), k=5)
    one_sentence(err)
