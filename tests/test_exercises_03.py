"""Notebook 03's exercises: each check cell, run as the notebook has it, passes the reference and keeps the random
state, says "not done yet" for a stub, and names each planted mistake; the references build exactly the layers and
weights of helpers.models' classes (which later notebooks reload); the student edition builds without a solution line.

The references are the notebook's solution cells (helpers.lessons.dcgan); the fixed inputs and the named mistakes are
in helpers.exercise_cases.dcgan. No kernel is started (`python -m tools.grade` runs the whole notebook).
"""
import pytest
import torch
from torch import nn

from exercise_support import NotebookChecks, standard_tests
from helpers.exercise_cases import dcgan as ex
from helpers.lessons import dcgan as reference
from helpers.models import DCGANDiscriminator, DCGANGenerator
from tools import exercises as build

CHECKS = NotebookChecks("03_dcgan.ipynb", reference, ex)
EXERCISES = CHECKS.exercises
pytestmark = pytest.mark.usefixtures("one_thread")   # small layers: a second thread makes each check several times slower
TestEveryExercise = standard_tests(CHECKS)


def test_the_notebook_has_its_exercises():
    assert list(EXERCISES) == ["out_size", "generator_stack", "discriminator_stack", "init_weights"]
    assert [e.number for e in EXERCISES.values()] == ["3.1", "3.2", "3.3", "3.4"]
    assert all(5 <= e.minutes <= 15 for e in EXERCISES.values())


# Planted mistakes, written as a student would.

def size_true_division(i, k, s, p, transposed=False):
    return (i - 1) * s - 2 * p + k if transposed else (i + 2 * p - k) / s + 1


def size_plus_padding(i, k, s, p, transposed=False):
    return (i - 1) * s + 2 * p + k if transposed else (i + 2 * p - k) // s + 1


def G_layers(nz, ngf, third=(4, 2, 1), output_padding=0, bias=False, end=(nn.Tanh,), out_bn=False):
    k, s, p = third
    layers = [nn.ConvTranspose2d(nz, 4 * ngf, 7, 1, 0, bias=bias), nn.BatchNorm2d(4 * ngf), nn.ReLU(True),
              nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=bias), nn.BatchNorm2d(2 * ngf), nn.ReLU(True),
              nn.ConvTranspose2d(2 * ngf, ngf, k, s, p, output_padding=output_padding, bias=bias),
              nn.BatchNorm2d(ngf), nn.ReLU(True),
              nn.ConvTranspose2d(ngf, 1, 3, 1, 1)]
    return nn.Sequential(*layers, *([nn.BatchNorm2d(1)] if out_bn else []), *[e() for e in end])


def D_layers(ndf, extra_layers, first_bn=False, act=lambda: nn.LeakyReLU(0.2, True), last_p=0, sigmoid=False):
    layers = [nn.Conv2d(1, ndf, 4, 2, 1), *([nn.BatchNorm2d(ndf)] if first_bn else []), act()]
    for _ in range(extra_layers):
        layers += [nn.Conv2d(ndf, ndf, 3, 1, 1), act()]
    layers += [nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * ndf), act(), nn.Conv2d(2 * ndf, 1, 7, 1, last_p)]
    return nn.Sequential(*layers, *([nn.Sigmoid()] if sigmoid else []))


def init_std(std, conv_types=(nn.Conv2d, nn.ConvTranspose2d)):
    def init(m):
        if isinstance(m, conv_types):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return init


PLANTED = [  # (exercise, a plausible wrong answer, what the check must say)
    ("out_size", size_true_division, "is 13.5 where the reference gives 13"),
    ("out_size", size_true_division, "the division is not floored"),
    ("out_size", size_plus_padding, "padding must be subtracted"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, third=(3, 2, 1)), "has shape (4, 1, 27, 27) where the reference's has shape (4, 1, 28, 28)"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, third=(3, 2, 1)), "G's images come out 27x27"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, output_padding=1), "has shape (4, 1, 29, 29)"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, output_padding=1), "G's images come out 29x29"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, third=(4, 2, 2)), "G's images are not 28x28"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, end=()), "the Tanh at G's end is missing"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, out_bn=True), "G's output layer has BatchNorm"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, end=(nn.Sigmoid,)), "G ends with a Sigmoid"),
    ("generator_stack", lambda nz, ngf: G_layers(nz, ngf, bias=True), "followed by BatchNorm has bias=False"),
    ("discriminator_stack", lambda ndf, extra: D_layers(ndf, extra, first_bn=True), "D's first layer has BatchNorm"),
    ("discriminator_stack", lambda ndf, extra: D_layers(ndf, extra, act=lambda: nn.ReLU(True)), "D uses ReLU"),
    ("discriminator_stack", lambda ndf, extra: D_layers(ndf, extra, act=nn.LeakyReLU), "slope 0.01"),
    ("discriminator_stack", lambda ndf, extra: D_layers(ndf, extra, sigmoid=True), "D ends with a Sigmoid"),
    ("discriminator_stack", lambda ndf, extra: D_layers(ndf, extra, last_p=1), "has shape (4, 1, 3, 3)"),
    ("discriminator_stack", lambda ndf, extra: D_layers(ndf, extra, last_p=1), "one logit per image"),
    ("discriminator_stack", lambda ndf, extra: D_layers(ndf, 1), "do not follow extra_layers"),
    ("init_weights", init_std(0.2), "the weight's standard deviation is 0.1998 where the reference gives 0.01998"),
    ("init_weights", init_std(0.2), "likely: the weights' standard deviation is 0.2;"),
    ("init_weights", init_std(0.02, conv_types=nn.Conv2d), "transposed convolutions were left alone"),
    ("init_weights", lambda m: m.apply(init_std(0.02)), "a container's layers were initialized too"),
]


@pytest.mark.parametrize("name, student, says", PLANTED, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(PLANTED)])
def test_a_planted_mistake_fails_with_its_name(name, student, says):
    message = CHECKS.failure(name, student)
    assert message.startswith(f"✗ {EXERCISES[name].label}") and says in message, message


def test_out_size_is_what_pytorch_layers_produce():
    for (i, k, s, p, transposed), size in ex.measured_sizes():
        assert reference.out_size(i, k, s, p, transposed=transposed) == size, (i, k, s, p, transposed)
    assert [reference.out_conv(28, 4, 2, 1), reference.out_transposed(7, 4, 2, 1)] == [14, 14]


@pytest.mark.parametrize("nz, ngf, ndf, extra", [(100, 32, 32, 1), (10, 8, 16, 0), (1000, 4, 8, 2)])
def test_the_references_build_the_classes_layers_and_weights(nz, ngf, ndf, extra):
    """Same layers in the same order and the same initialization as helpers.models (which later notebooks reload)."""
    for build_ref, cls, config in ((lambda: reference.generator_stack(nz, ngf), DCGANGenerator, {"nz": nz, "ngf": ngf}),
                                   (lambda: reference.discriminator_stack(ndf, extra), DCGANDiscriminator,
                                    {"ndf": ndf, "extra_layers": extra})):
        torch.manual_seed(0)
        ours = build_ref().apply(reference.init_weights)
        torch.manual_seed(0)
        theirs = cls(**config).net
        assert repr(ours) == repr(theirs)
        assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))


def test_make_players_puts_the_exercise_layers_in_the_classes():
    G, D, _, _ = reference.make_players(nz=10)
    assert type(G) is DCGANGenerator and type(D) is DCGANDiscriminator and G.nz == 10
    assert G.sample(2, seed=0).shape == (2, 1, 28, 28) and D(torch.zeros(3, 1, 28, 28)).shape == (3,)


def test_the_student_edition_has_the_stubs_and_no_solution():
    text = CHECKS.student_text()
    assert "(i + 2 * p - k) // s + 1" not in text and "nn.Tanh()" not in text and "normal_(module.weight" not in text


def test_the_student_editions_cells_fail_as_is_and_pass_with_the_solutions_pasted_back():
    """The notebook's exercise and check cells (and the cells that use the exercises before training), run in one
    namespace: as is, each check says "not done yet" and make_players stops naming the exercise it needs; with the
    solutions pasted back, every check passes."""
    settings = {n: getattr(reference, n) for n in ("NZ", "NGF", "NDF", "D_EXTRA", "LR", "BETAS", "dev")}
    space = CHECKS.namespace(references=False, nn=nn, DCGANGenerator=DCGANGenerator,
                             DCGANDiscriminator=DCGANDiscriminator, **settings)

    def make_players_needs_the_generator(student, space):
        players = next(c for c in student["cells"] if build.source(c).startswith("#@save\ndef with_layers"))
        exec(build.source(players), space)  # noqa: S102
        with pytest.raises(NotImplementedError, match=r"^Exercise 3\.2 \(generator_stack\): "):
            space["make_players"]()
    CHECKS.run_student_edition(space, before_filling=make_players_needs_the_generator)
    G, _, _, _ = space["make_players"]()
    G_ref, _, _, _ = reference.make_players()
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G_ref.state_dict().values()))
