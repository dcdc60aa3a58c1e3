"""The exercise machinery: helpers.exercises (checks), tools/exercises.py (student edition), tools/grade.py.

A fixture notebook with two exercises (a loss with its gradient, a training step) is built into its student
edition; the tests run that edition as is, with the solutions pasted back, and with planted mistakes.
"""
import json
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F

from helpers.exercises import ExerciseFailed, ExerciseNotDone, Inputs, Mistake, check_exercise, grads
from tools import exercises as build
from tools import grade

ROOT = Path(__file__).resolve().parent.parent

REFERENCE = '''
import torch
import torch.nn.functional as F


def g_loss(logits):
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


def update_D(D, G, opt_d, real, z):
    fake = G(z).detach()
    lr, lf = D(real), D(fake)
    loss = F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr)) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def models():
    D, G = torch.nn.Linear(3, 1), torch.nn.Linear(2, 3)
    return D, G, torch.optim.Adam(D.parameters(), lr=1e-2), torch.randn(6, 3), torch.randn(6, 2)
'''

SETUP = """\
import torch
import torch.nn.functional as F
import helpers
from helpers.exercises import Mistake, check_exercise, exercise_errors, grads
import fixture_reference as reference
exercise_errors()"""

G_LOSS = """\
def g_loss(logits):
    # Exercise 1.1 · g_loss (5 min): G's non-saturating loss, the binary cross-entropy of D's logits on fakes against the label 'real'.
    ### BEGIN SOLUTION
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    ### END SOLUTION"""

G_LOSS_CHECK = """\
check_exercise("1.1 g_loss", g_loss, reference.g_loss, cases=[lambda: torch.randn(8), lambda: 3 * torch.randn(4, 1)],
               gradients=True, mistakes=[Mistake("the sign is flipped", like=lambda logits: -reference.g_loss(logits))])"""

UPDATE_D = """\
def update_D(D, G, opt_d, real, z):
    # Exercise 1.2 · update_D (10 min): one step of D on a real batch (label 1) and G's fakes (label 0), kept out of G's graph; return the loss as a float.
    ### BEGIN SOLUTION
    fake = G(z).detach()
    logits_real, logits_fake = D(real), D(fake)
    loss = (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
            + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake)))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()
    ### END SOLUTION"""

UPDATE_D_CHECK = """\
check_exercise("1.2 update_D", update_D, reference.update_D, cases=[reference.models] * 3,
               observe=lambda loss, D, G, *_: {"D's loss": loss, "D": D, "G's gradients": grads(G)},
               mistakes=[Mistake("G(z) was not detached, so D's step left gradients in G",
                                 when=lambda got, want: any(g.abs().sum() > 0 for g in got["G's gradients"].values()))])"""

LATER = """\
D, G, opt_d, real, z = reference.models()
first_loss = update_D(D, G, opt_d, real, z)"""

LATER_STILL = """\
print("D's loss after one step:", round(first_loss, 3))"""


def fixture_notebook() -> dict:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# A fixture with two exercises")] + [
        nbformat.v4.new_code_cell(s) for s in (SETUP, G_LOSS, G_LOSS_CHECK, UPDATE_D, UPDATE_D_CHECK, LATER, LATER_STILL)]
    nb = json.loads(nbformat.writes(nb))
    assert build.mark(nb, "fixture")
    return nb


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("exercises")
    (d / "notebooks").mkdir()
    (d / "fixture_reference.py").write_text(REFERENCE)
    build.write(fixture_notebook(), d / "notebooks" / "01_fixture.ipynb")
    assert build.main(["--notebooks", str(d / "notebooks"), "--out", str(d)]) == 0
    return d


def fill(student: dict, solution: dict, *edits: tuple[str, str]) -> dict:
    """The student edition with each stub replaced by the solution's lines, after ``edits`` (old, new)."""
    nb = json.loads(json.dumps(student))
    for ex in build.find_exercises(solution, "fixture"):
        lines = build.source(nb["cells"][ex.cell]).split("\n")
        at = next(i for i, line in enumerate(lines) if line.strip() == "# YOUR CODE HERE")
        answer = "\n".join(ex.solution)
        for old, new in edits:
            answer = answer.replace(old, new)
        nb["cells"][ex.cell]["source"] = "\n".join(lines[:at] + answer.split("\n") + lines[at + 2:])
    return nb


def graded(workdir: Path, nb: dict, name: str, capsys) -> tuple[int, str]:
    path = workdir / name
    build.write(nb, path)
    code = grade.main([str(path), "--timeout", "120", "--save", str(workdir / f"ran_{name}")])
    return code, capsys.readouterr().out


# --- the student edition --------------------------------------------------------------------------------

def test_student_edition_has_stubs_and_no_solution_line(workdir):
    solution = json.loads((workdir / "notebooks" / "01_fixture.ipynb").read_text())
    student = json.loads((workdir / "01_fixture.ipynb").read_text())
    text = "\n".join(build.source(c) for c in student["cells"])
    for ex in build.find_exercises(solution, "fixture"):
        for line in ex.solution:
            if line.strip():
                assert line.strip() not in text, line
    assert 'raise NotImplementedError("Exercise 1.2 (update_D): one step of D' in text
    stub = build.source(student["cells"][4]).split("\n")
    assert stub[-2:] == ["    # YOUR CODE HERE", stub[-1]] and stub[-1].startswith("    raise NotImplementedError(")
    assert all(c.get("outputs", []) == [] for c in student["cells"] if c["cell_type"] == "code")


def test_nbgrader_metadata_follows_schema_v3(workdir):
    # nbgrader's cell metadata schema v3 (nbgrader/nbgraderformat/v3.json): these keys only, grade_id [A-Za-z0-9_-].
    allowed = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points", "checksum", "cell_type"}
    nb = json.loads((workdir / "notebooks" / "01_fixture.ipynb").read_text())
    metas = [c["metadata"]["nbgrader"] for c in nb["cells"] if "nbgrader" in c["metadata"]]
    assert [m["grade_id"] for m in metas] == ["ex1_1-g_loss", "ex1_1-g_loss-check", "ex1_2-update_D", "ex1_2-update_D-check"]
    for m in metas:
        assert set(m) <= allowed and {"schema_version", "grade", "locked", "solution"} <= set(m)
        assert m["schema_version"] == 3 and all(ch.isalnum() or ch in "_-" for ch in m["grade_id"])
        assert ("points" in m) == m["grade"]


def test_build_refuses_broken_conventions():
    nb = fixture_notebook()
    nb["cells"][4]["metadata"].pop("nbgrader")
    with pytest.raises(build.ExerciseFormatError, match=r"Exercise 1\.2 \(update_D\)'s solution cell lacks nbgrader"):
        build.student_edition(nb, "fixture")
    nb = fixture_notebook()
    nb["cells"][2]["source"] = build.source(nb["cells"][2]).replace("# Exercise 1.1 · g_loss (5 min)", "# Exercise 1.1 g_loss")
    with pytest.raises(build.ExerciseFormatError, match="must be the exercise's header"):
        build.find_exercises(nb, "fixture")
    nb = fixture_notebook()
    nb["cells"][6]["source"] = build.source(nb["cells"][6]) + "\nfake = G(z).detach()"  # a solution line outside its region would leak
    with pytest.raises(build.ExerciseFormatError, match="reword them"):
        build.student_edition(nb, "fixture")


def test_nbconvert_preprocessor_gives_the_same_student_edition():
    node = nbformat.reads(json.dumps(fixture_notebook()), as_version=4)  # sources as strings, as nbconvert has them
    student, _ = build.StudentEdition().preprocess(node, {"name": "fixture"})
    expected = build.student_edition(fixture_notebook(), "fixture")
    assert [build.source(c) for c in student.cells] == [build.source(c) for c in expected["cells"]]


def test_course_notebooks_build(tmp_path):
    built = build.build(ROOT / "notebooks", tmp_path)
    assert len(built) == 7
    for path, _ in built:
        solution = json.loads((ROOT / "notebooks" / path.name).read_text())
        assert build.leaked_lines(solution, json.loads(path.read_text()), path.name) == []


# --- the checks, without a kernel -----------------------------------------------------------------------

def ref_loss(logits):
    return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))


CASES = [lambda: torch.randn(8), lambda: torch.randn(3, 2)]


def test_check_passes_and_names_mistakes(capsys):
    assert check_exercise("1.1 g_loss", ref_loss, ref_loss, CASES, gradients=True)
    assert capsys.readouterr().out.strip() == "✓ Exercise 1.1 (g_loss) matches the reference on 2 fixed inputs."
    sign = [Mistake("the sign is flipped", like=lambda x: -ref_loss(x))]
    with pytest.raises(ExerciseFailed, match=r"the output is -?\d.* where the reference gives .* likely: the sign is flipped\.$"):
        check_exercise("1.1 g_loss", lambda x: -ref_loss(x), ref_loss, CASES, mistakes=sign)
    with pytest.raises(ExerciseFailed, match=r"has shape \(1,\) where the reference's has shape \(\)"):
        check_exercise("1.1 g_loss", lambda x: ref_loss(x).reshape(1), ref_loss, CASES)
    with pytest.raises(ExerciseFailed, match="not differentiable"):
        check_exercise("1.1 g_loss", lambda x: torch.tensor(ref_loss(x).item()), ref_loss, CASES, gradients=True)
    with pytest.raises(ExerciseFailed, match=r"raised ZeroDivisionError at `.*` on fixed input 1 of 2"):
        check_exercise("1.1 g_loss", lambda x: 1 / 0, ref_loss, CASES)


def step(detach=True, real_label=1.0):
    def update_D(D, G, opt_d, real, z):
        fake = G(z).detach() if detach else G(z)
        lr, lf = D(real), D(fake)
        loss = (F.binary_cross_entropy_with_logits(lr, torch.full_like(lr, real_label))
                + F.binary_cross_entropy_with_logits(lf, torch.full_like(lf, 1 - real_label)))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        return loss.item()
    return update_D


def players():
    D, G = torch.nn.Linear(3, 1), torch.nn.Linear(2, 3)
    return D, G, torch.optim.Adam(D.parameters(), lr=1e-2), torch.randn(6, 3), torch.randn(6, 2)


def test_inputs_pass_objects_to_observe_only():
    def update_D(detach):  # the notebook's signature: G is not an argument, yet D's step must leave it alone
        def update(D, opt_d, real, fake):
            loss = D(fake.detach() if detach else fake).mean() - D(real).mean()
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
            return loss
        return update

    def case():
        D, G, opt_d, real, z = players()
        return Inputs((D, opt_d, real, G(z)), also={"G": G})

    kw = dict(cases=[case], observe=lambda loss, D, opt_d, real, fake, G: {"loss": loss, "D": D, "G's gradients": grads(G)})
    assert check_exercise("1.1 update_D", update_D(True), update_D(True), **kw)
    with pytest.raises(ExerciseFailed, match="in G's gradients is not zero"):
        check_exercise("1.1 update_D", update_D(False), update_D(True), **kw)


def test_check_of_a_training_step_compares_parameters_after_it():
    kw = dict(cases=[players] * 2, observe=lambda loss, D, G, *_: {"D's loss": loss, "D": D, "G's gradients": grads(G)},
              mistakes=[Mistake("labels swapped", like=step(real_label=0.0)),
                        Mistake("G(z) was not detached", when=lambda got, want: got["G's gradients"]["weight"].abs().sum() > 0)])
    assert check_exercise("1.2 update_D", step(), step(), **kw)
    with pytest.raises(ExerciseFailed, match=r"D's loss is .* likely: labels swapped\.$"):
        check_exercise("1.2 update_D", step(real_label=0.0), step(), **kw)
    with pytest.raises(ExerciseFailed, match=r"weight in G's gradients is not zero .* likely: G\(z\) was not detached\.$"):
        check_exercise("1.2 update_D", step(detach=False), step(), **kw)
    no_step = lambda D, G, opt_d, real, z: step()(D, G, torch.optim.SGD(D.parameters(), lr=0.0), real, z)  # noqa: E731
    with pytest.raises(ExerciseFailed, match=r"D's weight differs from the reference"):
        check_exercise("1.2 update_D", no_step, step(), **kw)


def test_check_of_a_stub_says_not_done():
    def stub(x):
        raise NotImplementedError("Exercise 1.1 (g_loss): return G's loss")

    with pytest.raises(ExerciseNotDone, match=r"^✗ Exercise 1\.1 \(g_loss\) is not done yet: return G's loss\.$"):
        check_exercise("1.1 g_loss", stub, ref_loss, CASES)
    with pytest.raises(ExerciseNotDone, match=r"Exercise 1\.3 \(update_G\) can't be checked yet: it uses Exercise 1\.1"):
        check_exercise("1.3 update_G", stub, ref_loss, CASES)


def test_check_leaves_the_random_state_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    check_exercise("1.1 g_loss", ref_loss, ref_loss, CASES)
    assert torch.equal(torch.rand(3), expected)


# --- the fixture notebook in a kernel, graded -----------------------------------------------------------

def test_student_edition_as_is_fails_every_check_with_its_own_message(workdir, capsys):
    student = json.loads((workdir / "01_fixture.ipynb").read_text())
    student["cells"] += [nbformat.v4.new_code_cell('raise helpers.CourseError("A fixture error in one sentence.")'),
                         nbformat.v4.new_code_cell("def divide():\n    return 1 / 0\ndivide()")]
    code, out = graded(workdir, student, "as_is.ipynb", capsys)
    assert code == 1
    assert "1.1 g_loss    FAILED  ✗ Exercise 1.1 (g_loss) is not done yet: G's non-saturating loss" in out
    assert "1.2 update_D  FAILED  ✗ Exercise 1.2 (update_D) is not done yet: one step of D" in out
    assert "0 of 2 exercises passed." in out
    ran = nbformat.read(workdir / "ran_as_is.ipynb", as_version=4)
    later, cascade, course_error, other = (ran.cells[i].outputs[-1] for i in (6, 7, 8, 9))
    assert len(later.traceback) == 1 and "This cell needs Exercise 1.2 (update_D), which is not done yet" in later.traceback[0]
    assert cascade.traceback == ["\x1b[31mname 'first_loss' is not defined: a cell above stopped at Exercise 1.1 (g_loss) "
                                 "and Exercise 1.2 (update_D), which are not done yet.\x1b[0m"]
    assert len(course_error.traceback) == 1 and "A fixture error in one sentence." in course_error.traceback[0]
    assert len(other.traceback) > 1 and "divide()" in "".join(other.traceback)  # other errors keep their traceback


def test_solutions_pasted_back_pass_every_check(workdir, capsys):
    solution = json.loads((workdir / "notebooks" / "01_fixture.ipynb").read_text())
    student = json.loads((workdir / "01_fixture.ipynb").read_text())
    code, out = graded(workdir, fill(student, solution), "filled.ipynb", capsys)
    assert code == 0, out
    assert "✓ Exercise 1.1 (g_loss) matches the reference on 2 fixed inputs." in out
    assert "✓ Exercise 1.2 (update_D) matches the reference on 3 fixed inputs." in out
    assert "2 of 2 exercises passed." in out


def test_planted_mistakes_are_named(workdir, capsys):
    solution = json.loads((workdir / "notebooks" / "01_fixture.ipynb").read_text())
    student = json.loads((workdir / "01_fixture.ipynb").read_text())
    wrong = fill(student, solution, ("return F.binary", "return -F.binary"), ("G(z).detach()", "G(z)"))
    code, out = graded(workdir, wrong, "wrong.ipynb", capsys)
    assert code == 1
    assert "1.1 g_loss    FAILED" in out and "likely: the sign is flipped." in out
    assert "1.2 update_D  FAILED" in out and "likely: G(z) was not detached, so D's step left gradients in G." in out
    assert "0 of 2 exercises passed." in out


def test_an_infinity_is_reported_unless_the_other_side_has_the_same_one():
    finite = lambda: torch.tensor([1.0, 2.0])   # noqa: E731
    with pytest.raises(ExerciseFailed, match="contains NaN or infinity"):
        check_exercise("1.1 g_loss", lambda t: t / torch.tensor([1.0, 0.0]), lambda t: t, [finite])
    with pytest.raises(ExerciseFailed, match="likely: divided by zero"):   # a variant with the same infinity is named
        check_exercise("1.1 g_loss", lambda t: t / torch.tensor([1.0, 0.0]), lambda t: t, [finite],
                       mistakes=[Mistake("divided by zero", like=lambda t: t / torch.tensor([1.0, 0.0]))])
    with pytest.raises(ExerciseFailed, match="finite where the reference's is NaN or infinite"):   # and the other way round
        check_exercise("1.1 g_loss", lambda t: t, lambda t: t / torch.tensor([1.0, 0.0]), [finite])
    with pytest.raises(ExerciseFailed, match="contains NaN or infinity"):   # NaN never agrees, even with NaN
        check_exercise("1.1 g_loss", lambda t: t * float("nan"), lambda t: t * float("nan"), [finite])
