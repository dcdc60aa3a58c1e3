"""Notebook 04's exercises: each check cell, run as the notebook has it, passes the reference and keeps the random
state, says "not done yet" for a stub, and names each of its mistakes and each planted one.

The references are the notebook's solution cells (helpers.lessons.conditional_gan); the fixed inputs and the named
mistakes are in helpers.exercise_cases.conditional_gan. No kernel is started: the notebook's own exercise and check cells run
in-process (`python -m tools.grade` on the whole notebook takes about a minute in quick mode).
"""
import pytest
import torch
from torch import nn

from exercise_support import NotebookChecks, standard_tests
from helpers.exercise_cases import conditional_gan as ex
from helpers.lessons import conditional_gan as reference
from helpers.models import DCGANDiscriminator, DCGANGenerator
from tools import exercises as build

CHECKS = NotebookChecks("04_conditional_gan.ipynb", reference, ex)
EXERCISES = CHECKS.exercises
pytestmark = pytest.mark.usefixtures("one_thread")
TestEveryExercise = standard_tests(CHECKS)
F = nn.functional


def test_the_notebook_has_its_exercises():
    assert list(EXERCISES) == ["generator_input", "discriminator_input", "draw_digit"]
    assert [e.minutes for e in EXERCISES.values()] == [10, 15, 15]
    for e in EXERCISES.values():   # each check cell calls check_exercise with the table's inputs
        text = build.source(CHECKS.solution["cells"][e.check])
        assert f'check_exercise("{e.number} {e.name}", {e.name}, reference.{e.name}' in text and text.rstrip().endswith(";")
    assert [len(CHECKS.check_options(name)["cases"]) for name in EXERCISES] == [3, 3, 3]


# Planted mistakes, written as a student would.

def g_input_one_hot_too_narrow(z, labels):
    return torch.cat([z, F.one_hot(labels).float()], dim=1)            # width max(labels) + 1


def g_input_raw_label(z, labels):
    return torch.cat([z, labels.unsqueeze(1).to(z.dtype)], dim=1)      # one number, not one-hot


def g_input_label_first(z, labels):
    return torch.cat([F.one_hot(labels, 10).to(z.dtype), z], dim=1)


def d_input_batch_labels_on_every_image(x, labels):                    # D ignores each image's own label
    planes = torch.zeros(x.shape[0], 10, x.shape[2], x.shape[3], dtype=x.dtype)
    planes[:, labels] = 1.0
    return torch.cat([x, planes], dim=1)


def d_input_one_hot_too_narrow(x, labels):
    one_hot = F.one_hot(labels).to(x.dtype)
    return torch.cat([x, one_hot.view(*one_hot.shape, 1, 1).repeat(1, 1, x.shape[2], x.shape[3])], dim=1)


def d_input_planes_first(x, labels):
    planes = F.one_hot(labels, 10).to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
    return torch.cat([planes, x], dim=1)


def d_input_label_value_plane(x, labels):
    return torch.cat([x, torch.ones_like(x) * labels.view(-1, 1, 1, 1)], dim=1)


def drawer(labels=lambda n, digit, dev: torch.full((n,), digit, dtype=torch.long, device=dev),
           z=None, eval_mode=True, no_grad=True, restore=True, to_unit=True):
    """draw_digit with one step changed (``z``: how to draw the noise instead of from the seed)."""
    def draw_digit(G, digit, n, seed=0):
        y = labels(n, digit, G.device)
        noise = (z(n, G) if z is not None else
                 torch.randn(n, G.nz, generator=torch.Generator().manual_seed(seed))).to(G.device)
        was_training = G.training
        if eval_mode:
            G.eval()
        with torch.no_grad() if no_grad else torch.enable_grad():
            x = G(noise, y)
        if restore:
            G.train(was_training)
        return ((x.cpu() + 1) / 2).clamp(0, 1) if to_unit else x.cpu()
    return draw_digit


DRAW_DIGIT_PLANTED = [   # in the order of ex.DRAW_DIGIT_MISTAKES
    drawer(labels=lambda n, digit, dev: torch.tensor([digit], device=dev)),       # one label for all
    drawer(labels=lambda n, digit, dev: torch.ones(n, device=dev) * digit),       # float labels
    drawer(z=lambda n, G: torch.randn(n, G.nz)),                                  # z not seeded by seed
    drawer(eval_mode=False),                                                      # training mode
    drawer(no_grad=False),                                                        # graph kept
    drawer(to_unit=False),                                                        # left in [-1, 1]
    drawer(restore=False),                                                        # G left in eval mode
]


@pytest.mark.parametrize("name, student, mistake", [
    ("generator_input", g_input_one_hot_too_narrow, 0),
    ("generator_input", g_input_raw_label, 1),
    ("generator_input", g_input_label_first, 2),
    ("discriminator_input", d_input_batch_labels_on_every_image, 0),
    ("discriminator_input", d_input_one_hot_too_narrow, 1),
    ("discriminator_input", d_input_planes_first, 2),
    ("discriminator_input", d_input_label_value_plane, 3),
    *[("draw_digit", student, k) for k, student in enumerate(DRAW_DIGIT_PLANTED)],
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_planted_mistake_fails_with_its_name(name, student, mistake):
    message = CHECKS.failure(name, student)
    said = CHECKS.mistakes(name)[mistake].message
    assert message.startswith(f"✗ {EXERCISES[name].label}") and f"likely: {said}." in message, message


def test_a_d_that_ignores_the_labels_gets_the_same_input_for_shuffled_labels():
    (x1, y1), (x2, y2) = (case() for case in ex.DISCRIMINATOR_INPUT_CASES[:2])
    assert torch.equal(x1, x2) and not torch.equal(y1, y2)
    assert torch.equal(d_input_batch_labels_on_every_image(x1, y1), d_input_batch_labels_on_every_image(x2, y2))
    assert not torch.equal(reference.discriminator_input(x1, y1), reference.discriminator_input(x2, y2))


def test_concatenating_on_the_wrong_dimension_is_one_sentence_naming_the_line():
    def g_input_wrong_dim(z, labels):
        return torch.cat([z, F.one_hot(labels, 10).to(z.dtype)], dim=0)
    message = CHECKS.failure("generator_input", g_input_wrong_dim)
    assert message.startswith("✗ Exercise 4.1 (generator_input) raised RuntimeError at `return torch.cat(") and \
        "dim=0)` on fixed input 1 of 3" in message and "\n" not in message, message


def test_right_answers_written_differently_pass(capsys):
    CHECKS.run_check("generator_input", lambda z, labels: torch.cat([z, torch.eye(10, dtype=z.dtype)[labels]], -1))
    def planes_by_scatter(x, labels):
        index = labels.view(-1, 1, 1, 1).expand(-1, 1, *x.shape[2:])
        return torch.cat([x, torch.zeros(len(x), 10, *x.shape[2:], dtype=x.dtype).scatter_(1, index, 1.0)], 1)
    CHECKS.run_check("discriminator_input", planes_by_scatter)
    CHECKS.run_check("draw_digit", lambda G, digit, n, seed=0: G.sample(n, labels=digit, seed=seed))
    assert capsys.readouterr().out.count("✓ Exercise") == 3


def test_the_players_read_the_exercises_and_compute_what_helpers_models_computes():
    G, D, _, _ = reference.make_players(seed=0)
    _, D_without_y, _, _ = reference.make_players(d_sees_y=False, seed=0)
    assert isinstance(G, DCGANGenerator) and isinstance(D, DCGANDiscriminator) and D_without_y.num_classes == 0
    z, y = torch.randn(3, reference.NZ), torch.tensor([1, 9, 4])
    x = G(z, y)
    assert torch.equal(x, DCGANGenerator.forward(G, z, y)) and torch.equal(D(x, y), DCGANDiscriminator.forward(D, x, y))
    assert torch.equal(reference.draw_digit(G, 8, 5, seed=2), G.sample(5, labels=8, seed=2)) and G.training


def test_the_student_edition_has_the_stubs_and_no_solution():
    text = CHECKS.student_text()
    assert "one_hot(labels, CLASSES)" not in text and "manual_seed(seed)).to(G.device)" not in text


def test_the_student_editions_check_cells_fail_as_is_and_pass_with_the_solutions_pasted_back():
    """The notebook's own exercise and check cells, run in one namespace (the rest of the notebook trains for a
    minute: `python -m tools.grade` on the built edition does the full run)."""
    CHECKS.run_student_edition(CHECKS.namespace(references=False, nn=nn, CLASSES=reference.CLASSES, NZ=reference.NZ))
