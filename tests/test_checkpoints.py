import pytest
import torch

import helpers
from helpers.models import MLPGenerator


@pytest.fixture(autouse=True)
def tmp_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_COURSE_CHECKPOINTS", str(tmp_path))
    return tmp_path


def test_round_trip_with_weights_only(tmp_checkpoints):
    G = MLPGenerator(nz=8, hidden=(16, 32))
    path = helpers.save_generator("tiny", G, steps=12, seed=3, data="sample")
    assert path == tmp_checkpoints / "tiny.pt"
    record = torch.load(path, weights_only=True)  # no pickled code inside
    assert record["kind"] == "mlp" and record["meta"]["steps"] == 12 and record["meta"]["mode"] == "quick"
    H = helpers.load_generator("tiny", device="cpu")
    assert not H.training and H.meta["seed"] == 3
    assert torch.equal(G.sample(4, seed=0), H.sample(4, seed=0))
    assert "tiny" in helpers.list_checkpoints()


def test_missing_checkpoint_names_file_and_notebook(tmp_checkpoints):
    with pytest.raises(helpers.CourseError) as err:
        helpers.load_generator("dcgan")
    msg = str(err.value)
    assert str(tmp_checkpoints / "dcgan.pt") in msg and "notebooks/03_dcgan.ipynb" in msg
    assert "\n" not in msg


def test_corrupt_checkpoint(tmp_checkpoints):
    (tmp_checkpoints / "vanilla_gan.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(helpers.CourseError, match="corrupt.*01_vanilla_gan"):
        helpers.load_generator("vanilla_gan")


def test_foreign_dict_is_refused(tmp_checkpoints):
    torch.save({"weights": torch.zeros(2)}, tmp_checkpoints / "other.pt")
    with pytest.raises(helpers.CourseError, match="unknown format"):
        helpers.load_generator("other")


def test_incompatible_checkpoint(tmp_checkpoints):
    helpers.save_generator("vanilla_gan", MLPGenerator(nz=8, hidden=(16,)))
    record = torch.load(tmp_checkpoints / "vanilla_gan.pt", weights_only=True)
    record["config"]["hidden"] = [32]  # weights no longer fit the model the config builds
    torch.save(record, tmp_checkpoints / "vanilla_gan.pt")
    with pytest.raises(helpers.CourseError, match="does not fit"):
        helpers.load_generator("vanilla_gan")


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden"])
def test_bad_names(name):
    with pytest.raises(helpers.CourseError, match="not a checkpoint name"):
        helpers.save_generator(name, MLPGenerator(nz=8, hidden=(16,)))


def test_conditional_dcgan_round_trip(tmp_checkpoints):
    from helpers.models import DCGANGenerator

    G = DCGANGenerator(nz=8, ngf=4, num_classes=10)
    helpers.save_generator("cgan", G, steps=1)
    H = helpers.load_generator("cgan", device="cpu")
    assert H.kind == "dcgan" and H.num_classes == 10
    labels = [3, 1, 4, 1]
    assert torch.equal(G.sample(4, labels=labels, seed=0), H.sample(4, labels=labels, seed=0))
    with pytest.raises(helpers.CourseError, match="needs labels"):
        H.sample(4)


def test_mixture_dcgan_round_trip(tmp_checkpoints):
    from helpers.models import MixtureDCGANGenerator

    G = MixtureDCGANGenerator(nz=8, ngf=4, components=3)
    G.set_weights([1, 2, 7])
    with torch.no_grad():
        G.means.add_(1.0)                      # learned means are saved with the weights
    helpers.save_generator("mix", G, steps=1)
    H = helpers.load_generator("mix", device="cpu")
    assert H.kind == "dcgan_mixture" and H.components == 3
    assert torch.equal(H.means, G.means) and torch.equal(H.weights, G.weights)
    assert torch.equal(H.sample(5, seed=0), G.eval().sample(5, seed=0))


def test_both_models_of_notebook_03_round_trip_under_their_own_names(tmp_checkpoints):
    from helpers.models import DCGANGenerator, MixtureDCGANGenerator

    plain, clusters = DCGANGenerator(nz=8, ngf=4), MixtureDCGANGenerator(nz=8, ngf=4, components=3)
    for name in ("dcgan", "dcgan_clusters"):
        with pytest.raises(helpers.CourseError, match="notebooks/03_dcgan.ipynb"):
            helpers.load_generator(name)
    helpers.save_generator("dcgan", plain, steps=2)
    helpers.save_generator("dcgan_clusters", clusters, steps=3)
    H_plain, H_clusters = helpers.load_generator("dcgan", device="cpu"), helpers.load_generator("dcgan_clusters", device="cpu")
    assert (H_plain.kind, H_plain.meta["steps"], H_clusters.kind, H_clusters.meta["steps"]) == ("dcgan", 2, "dcgan_mixture", 3)
    assert torch.equal(H_plain.sample(4, seed=0), plain.eval().sample(4, seed=0))
    assert torch.equal(H_clusters.sample(4, seed=0), clusters.eval().sample(4, seed=0))
    assert {"dcgan", "dcgan_clusters"} <= set(helpers.list_checkpoints())
    assert helpers.PRODUCERS["dcgan"] == helpers.PRODUCERS["dcgan_clusters"] == "notebooks/03_dcgan.ipynb"
