"""helpers/scoreboard.py: the table of every checkpoint, on tiny untrained models in a temporary folder."""
import pytest
import torch

import helpers
from helpers import metrics as M
from helpers import scoreboard as S
from helpers.models import DCGANGenerator, MLPGenerator

N = 128  # the smallest N the Fréchet distance accepts: keeps these tests at a few seconds


@pytest.fixture(autouse=True)
def tmp_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_CHECKPOINTS", str(tmp_path))
    return tmp_path


def save_tiny_models():
    torch.manual_seed(0)
    helpers.save_generator("vanilla_gan", MLPGenerator(nz=8, hidden=(16,)), steps=12)
    helpers.save_generator("cgan", DCGANGenerator(nz=8, ngf=4, num_classes=10), steps=3)


def test_without_checkpoints_every_row_names_its_notebook_and_nothing_is_loaded(monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("loaded data or the classifier with no checkpoint to score")

    monkeypatch.setattr(S, "load_mnist", no_loading)
    monkeypatch.setattr(S, "Reference", no_loading)
    board = S.scoreboard(real=False)
    assert [r.model for r in board] == list(helpers.PRODUCERS) and not board.measured
    for row in board:
        assert row.status == "missing" and row.note == f"missing: run {helpers.PRODUCERS[row.model]}"
    assert "loss_wgan_gp" in helpers.PRODUCERS and helpers.PRODUCERS["loss_best"].endswith("02_loss_saturation.ipynb")
    fragment = S.scoreboard_html()  # what the reports index shows before any notebook has run
    assert "No checkpoint yet" in fragment and "missing: run notebooks/03_dcgan.ipynb" in fragment
    assert "could not be computed" not in fragment and "<img" not in fragment


def test_unknown_name_is_one_sentence_naming_the_known_ones():
    with pytest.raises(helpers.CourseError) as err:
        S.scoreboard(["dcgna"])
    msg = str(err.value)
    assert "'dcgna'" in msg and "dcgan" in msg and "loss_hinge" in msg
    assert "\n" not in msg and msg.endswith(".")


def test_models_are_scored_with_the_same_n_and_seed_and_missing_ones_are_listed():
    save_tiny_models()
    board = S.scoreboard(["vanilla_gan", "dcgan", "cgan"], n=N, seed=0)
    assert [(r.model, r.status) for r in board] == [
        (S.REAL, "reference"), ("vanilla_gan", "ok"), ("dcgan", "missing"), ("cgan", "ok")]
    real, vanilla, cgan = board[S.REAL], board["vanilla_gan"], board["cgan"]
    assert board["dcgan"].note == "missing: run notebooks/03_dcgan.ipynb" and board["dcgan"].fd is None
    assert all(r.n == N for r in board.measured) and board.missing == [board["dcgan"]]
    assert vanilla.trained == "quick, 12 steps" and cgan.note == "labels 0-9 in turn"
    # the numbers are those of the metrics on N samples drawn with the seed, against the N held-out digits
    ref = S.Reference(N, 0)
    x = helpers.load_generator("vanilla_gan").sample(N, seed=0)
    assert vanilla.fd == pytest.approx(M.frechet_distance(x, ref.held01), rel=1e-9)
    assert vanilla.fd_train == pytest.approx(M.frechet_distance(x, ref.train_ref01), rel=1e-9)
    assert vanilla.memorized == M.memorization(x, ref.train01, ref.held01)[0]
    # untrained generators are far from real digits; real digits are close to each other
    assert real.fd < 0.2 * min(vanilla.fd, cgan.fd) and real.precision > 0.6 and real.memorized is None
    assert sum(real.class_hist) == pytest.approx(1) and 0 <= vanilla.confident <= 1
    md = board.markdown()
    assert md.count("\n") == len(board) + 1 and "| DCGAN (dcgan) | 03_dcgan.ipynb | **missing** |" in md
    assert "| conditional DCGAN (cgan, labels 0-9 in turn) | 04_conditional_gan.ipynb |" in md


def test_both_dcgans_of_notebook_03_have_a_row_labelled_for_what_they_are():
    from helpers.models import MixtureDCGANGenerator

    torch.manual_seed(0)
    helpers.save_generator("dcgan", DCGANGenerator(nz=8, ngf=4), steps=5)
    helpers.save_generator("dcgan_clusters", MixtureDCGANGenerator(nz=8, ngf=4, components=3), steps=6)
    assert list(helpers.PRODUCERS).index("dcgan_clusters") == list(helpers.PRODUCERS).index("dcgan") + 1
    board = S.scoreboard(["dcgan", "dcgan_clusters"], n=N, real=False)
    assert [(r.model, r.label, r.status, r.notebook) for r in board] == [
        ("dcgan", "DCGAN", "ok", "notebooks/03_dcgan.ipynb"),
        ("dcgan_clusters", "DCGAN, cluster prior", "ok", "notebooks/03_dcgan.ipynb")]
    assert board["dcgan"].trained == "quick, 5 steps" and board["dcgan_clusters"].trained == "quick, 6 steps"   # two models
    md, page = board.markdown(), board.html()
    assert "| DCGAN (dcgan) |" in md and "| DCGAN, cluster prior (dcgan_clusters) |" in md
    assert "<td>DCGAN<br><small>dcgan</small></td>" in page and "DCGAN, cluster prior<br><small>dcgan_clusters</small>" in page
    fig = board.plot()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["DCGAN, cluster prior", "DCGAN"]
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["DCGAN", "DCGAN, cluster prior"]


def test_rows_are_cached_until_the_checkpoint_changes(monkeypatch):
    save_tiny_models()
    first = S.scoreboard(["vanilla_gan"], n=N)

    def recomputed(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(S, "Reference", recomputed)
    again = S.scoreboard(["vanilla_gan"], n=N)
    assert again.rows == first.rows  # from the cache: Reference was never built
    helpers.save_generator("vanilla_gan", MLPGenerator(nz=8, hidden=(16,)), steps=99)  # new weights
    with pytest.raises(AssertionError, match="computed again"):
        S.scoreboard(["vanilla_gan"], n=N)
    with pytest.raises(AssertionError, match="computed again"):  # another N is another row
        S.scoreboard(["cgan"], n=N + 1, real=False)


def test_a_corrupt_checkpoint_gets_a_row_with_what_to_do(tmp_checkpoints):
    save_tiny_models()
    (tmp_checkpoints / "dcgan.pt").write_bytes(b"not a checkpoint")
    board = S.scoreboard(["dcgan", "cgan"], n=N, real=False)
    assert board["dcgan"].status == "error" and "corrupt" in board["dcgan"].note
    assert "notebooks/03_dcgan.ipynb" in board["dcgan"].note and board["cgan"].status == "ok"
    fragment = S.scoreboard_html(["dcgan", "cgan", "vanilla_gan"], n=N)
    assert "corrupt" in fragment and 'src="data:image/png;base64,' in fragment and f"N = {N}" in fragment
    assert 'src="http' not in fragment and 'href="http' not in fragment


def test_reference_refuses_an_n_the_data_cannot_give():
    data = helpers.load_mnist(quiet=True)
    with pytest.raises(helpers.CourseError, match="held-out") as err:
        S.Reference(len(data.heldout) + 1)
    assert "\n" not in str(err.value)
    ref = S.Reference(N)
    with pytest.raises(helpers.CourseError, match=f"exactly n={N}"):
        ref.score(ref.held01[:N - 1])
    # the three sets are disjoint where they must be: fresh digits are not in train_rest
    assert len(ref.train_rest01) == len(ref.train01) - N
    assert (torch.cdist(ref.fresh01.flatten(1), ref.train_rest01.flatten(1)).amin(1) > 0).all()
