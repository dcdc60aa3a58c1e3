"""Notebook 04's exercises: each reference passes its own check, a stub is "not done yet", a planted mistake is named.

The references are the notebook's solution cells (helpers.lessons.conditional_gan); the fixed inputs and the named
mistakes are in helpers.exercise_cases.conditional_gan. No kernel is started: the notebook's own exercise and check cells run
in-process (`python -m tools.grade` on the whole notebook takes about a minute in quick mode).
"""
import json
import re

import pytest
import torch
from torch import nn

import helpers
from helpers.exercise_cases import conditional_gan as ex
from helpers.exercises import ExerciseFailed, ExerciseNotDone
from helpers.lessons import conditional_gan as reference
from helpers.models import DCGANDiscriminator, DCGANGenerator
from tools import exercises as build

NOTEBOOK = build.ROOT / "notebooks" / "04_conditional_gan.ipynb"
SOLUTION = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
EXERCISES = {f"{e.number} {e.name}": e for e in build.find_exercises(SOLUTION, NOTEBOOK.name)}
CHECKS = {  # name: (reference, cases, mistakes, observe)
    "4.1 generator_input": (reference.generator_input, ex.GENERATOR_INPUT_CASES, ex.GENERATOR_INPUT_MISTAKES, None),
    "4.2 discriminator_input": (reference.discriminator_input, ex.DISCRIMINATOR_INPUT_CASES,
                                ex.DISCRIMINATOR_INPUT_MISTAKES, None),
    "4.3 draw_digit": (reference.draw_digit, ex.DRAW_DIGIT_CASES, ex.DRAW_DIGIT_MISTAKES, ex.observe_draw),
}
F = nn.functional


def run_check_cell(name, student) -> None:
    """The notebook's own check cell for ``name``, with ``student`` as the exercise's function."""
    e = EXERCISES[name]
    space = {"helpers": helpers, "exercises": ex, "reference": reference, e.name: student}
    exec(build.source(SOLUTION["cells"][e.check]), space)  # noqa: S102 - the notebook's check cell


def failure(name, student) -> str:
    with pytest.raises(ExerciseFailed) as err:
        run_check_cell(name, student)
    return str(err.value)


def test_the_notebook_has_its_exercises():
    assert list(EXERCISES) == list(CHECKS)
    assert [e.minutes for e in EXERCISES.values()] == [10, 15, 15]
    for name, e in EXERCISES.items():   # each check cell calls check_exercise with the table's inputs
        text = build.source(SOLUTION["cells"][e.check])
        assert f'check_exercise("{name}", {e.name}, reference.{e.name}' in text and text.rstrip().endswith(";")


@pytest.mark.parametrize("name", CHECKS)
def test_the_reference_passes_its_own_check_and_keeps_the_random_state(name, capsys):
    torch.manual_seed(5)
    before = torch.rand(1)
    torch.manual_seed(5)
    run_check_cell(name, CHECKS[name][0])
    assert torch.equal(torch.rand(1), before)
    assert capsys.readouterr().out.startswith(f"✓ {EXERCISES[name].label} matches the reference on 3 fixed inputs.")


@pytest.mark.parametrize("name", CHECKS)
def test_a_stub_is_not_done_yet(name):
    def stub(*args, **kwargs):
        raise NotImplementedError(f"{EXERCISES[name].label}: {EXERCISES[name].task}")
    with pytest.raises(ExerciseNotDone, match="^✗ " + re.escape(f"{EXERCISES[name].label} is not done yet: ")):
        run_check_cell(name, stub)


@pytest.mark.parametrize("name", ["4.1 generator_input", "4.2 discriminator_input"])
def test_every_variant_mistake_is_recognised_as_itself(name):
    """Each wrong variant fails the check with its own hint (so the inputs tell the mistakes apart)."""
    for mistake in CHECKS[name][2]:
        assert f"likely: {mistake.message}." in failure(name, mistake.like), mistake.message


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
    ("4.1 generator_input", g_input_one_hot_too_narrow, 0),
    ("4.1 generator_input", g_input_raw_label, 1),
    ("4.1 generator_input", g_input_label_first, 2),
    ("4.2 discriminator_input", d_input_batch_labels_on_every_image, 0),
    ("4.2 discriminator_input", d_input_one_hot_too_narrow, 1),
    ("4.2 discriminator_input", d_input_planes_first, 2),
    ("4.2 discriminator_input", d_input_label_value_plane, 3),
    *[("4.3 draw_digit", student, k) for k, student in enumerate(DRAW_DIGIT_PLANTED)],
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_planted_mistake_fails_with_its_name(name, student, mistake):
    message = failure(name, student)
    said = CHECKS[name][2][mistake].message
    assert message.startswith(f"✗ {EXERCISES[name].label}") and f"likely: {said}." in message, message


def test_a_d_that_ignores_the_labels_gets_the_same_input_for_shuffled_labels():
    (x1, y1), (x2, y2) = (case() for case in ex.DISCRIMINATOR_INPUT_CASES[:2])
    assert torch.equal(x1, x2) and not torch.equal(y1, y2)
    assert torch.equal(d_input_batch_labels_on_every_image(x1, y1), d_input_batch_labels_on_every_image(x2, y2))
    assert not torch.equal(reference.discriminator_input(x1, y1), reference.discriminator_input(x2, y2))


def test_concatenating_on_the_wrong_dimension_is_one_sentence_naming_the_line():
    def g_input_wrong_dim(z, labels):
        return torch.cat([z, F.one_hot(labels, 10).to(z.dtype)], dim=0)
    message = failure("4.1 generator_input", g_input_wrong_dim)
    assert message.startswith("✗ Exercise 4.1 (generator_input) raised RuntimeError at `return torch.cat(") and \
        "dim=0)` on fixed input 1 of 3" in message and "\n" not in message, message


def test_right_answers_written_differently_pass(capsys):
    run_check_cell("4.1 generator_input", lambda z, labels: torch.cat([z, torch.eye(10, dtype=z.dtype)[labels]], -1))
    def planes_by_scatter(x, labels):
        index = labels.view(-1, 1, 1, 1).expand(-1, 1, *x.shape[2:])
        return torch.cat([x, torch.zeros(len(x), 10, *x.shape[2:], dtype=x.dtype).scatter_(1, index, 1.0)], 1)
    run_check_cell("4.2 discriminator_input", planes_by_scatter)
    run_check_cell("4.3 draw_digit", lambda G, digit, n, seed=0: G.sample(n, labels=digit, seed=seed))
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
    student = build.student_edition(SOLUTION, NOTEBOOK.name)
    text = "\n".join(build.source(c) for c in student["cells"])
    for e in EXERCISES.values():
        assert f'raise NotImplementedError("{e.label}: ' in text
    assert not build.leaked_lines(SOLUTION, student, NOTEBOOK.name)
    assert "one_hot(labels, CLASSES)" not in text and "manual_seed(seed)).to(G.device)" not in text


def test_the_student_editions_check_cells_fail_as_is_and_pass_with_the_solutions_pasted_back(capsys):
    """The notebook's own exercise and check cells, run in one namespace (the rest of the notebook trains for a
    minute: `python -m tools.grade` on the built edition does the full run)."""
    student = build.student_edition(SOLUTION, NOTEBOOK.name)
    namespace = {"helpers": helpers, "exercises": ex, "reference": reference, "torch": torch, "nn": nn,
                 "CLASSES": reference.CLASSES, "NZ": reference.NZ}
    for e in EXERCISES.values():
        exec(build.source(student["cells"][e.cell]).replace("#@save\n", "", 1), namespace)  # noqa: S102
        with pytest.raises(ExerciseNotDone, match="^✗ " + re.escape(f"{e.label} is not done yet: ")):
            exec(build.source(student["cells"][e.check]), namespace)  # noqa: S102
    for e in EXERCISES.values():   # the round trip: each stub replaced by the solution's lines
        lines = build.source(student["cells"][e.cell]).split("\n")
        at = next(i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
        exec("\n".join(lines[:at] + list(e.solution) + lines[at + 2:]), namespace)  # noqa: S102
        exec(build.source(student["cells"][e.check]), namespace)  # noqa: S102
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("✓ Exercise")]
    assert len(said) == len(EXERCISES) == 3
