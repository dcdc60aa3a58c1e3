"""What an exercise's check cell calls: the student's function against the course's reference on fixed inputs.

``check_exercise("1.2 update_D", update_D, reference.update_D, cases=[...])`` builds each case's inputs
(seeded inside the check, fresh for every call, so models and optimizers start identical), runs both
functions, and compares what they return: structure, shapes, then values by relative error, plus
gradients with ``gradients=True`` and parameters after a training step through ``observe``. It prints one
sentence, ``✓ Exercise 1.2 (update_D) matches the reference on 3 fixed inputs.``, or raises
:class:`ExerciseFailed` with one sentence saying what differs, on which input, and, when a known mistake
(:class:`Mistake`) explains it, which one. A stub that still raises ``NotImplementedError`` gives
:class:`ExerciseNotDone` (``Exercise 1.2 (update_D) is not done yet: ...``).

:func:`exercise_errors` (called once by a notebook with exercises) shows those errors, and the stub's
``NotImplementedError`` met in a later cell, as one sentence naming the exercise instead of a traceback.
"""
from __future__ import annotations

import re
import traceback
from typing import Any, Callable, NamedTuple, Sequence

import torch

from .config import CourseError, one_thread, using_precision
from .display import ipython_shell, short_errors

NOT_DIFFERENTIABLE = "not differentiable"
STUB = re.compile(r"^(Exercise \d+\.\d+ \([^)]*\)): (.*)$", re.S)  # the message of a stub's NotImplementedError
_UNSOLVED: dict[str, None] = {}  # exercises this kernel met unsolved, in order (for a NameError they cause later)


class ExerciseFailed(AssertionError):
    """An exercise's check found the student's code different from the reference (the message says how)."""


class ExerciseNotDone(ExerciseFailed):
    """An exercise's check ran into a stub that still raises ``NotImplementedError``."""


class Mistake(NamedTuple):
    """A plausible mistake and the hint that names it.

    * ``like``: a known-wrong variant with the reference's signature; the hint applies when the student's
      results match the variant's on every fixed input.
    * ``when``: a predicate ``when(got, expected)`` on the observations of the first input that differs.
    """
    message: str
    like: Callable | None = None
    when: Callable[[Any, Any], bool] | None = None


class Inputs(NamedTuple):
    """What a case returns when a tuple of positional arguments is not enough: ``kwargs`` for the function,
    and ``also``, objects the function does not take that ``observe`` looks at (e.g. G, whose gradients
    D's step must leave alone: ``Inputs((D, opt_D, real, G(z)), also={"G": G})``)."""
    args: tuple = ()
    kwargs: dict = {}
    also: dict = {}


def grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's parameter gradients by name; a missing gradient counts as zeros (for ``observe``)."""
    return {k: torch.zeros_like(v) if v.grad is None else v.grad.detach().clone() for k, v in module.named_parameters()}


def check_exercise(exercise: str, student: Callable, reference: Callable, cases: Sequence[Callable], *,
                   observe: Callable | None = None, gradients: bool = False, mistakes: Sequence[Mistake] = (),
                   rtol: float = 1e-3, seed: int = 0) -> bool:
    """Run ``student`` and ``reference`` on the same fixed inputs and say, in one sentence, whether they agree.

    * ``exercise``: ``"1.2 update_D"``, the exercise's number and name as in its header line.
    * ``cases``: functions without arguments that build one input each: a tuple of positional arguments,
      a dict of keyword arguments, a single argument, or :class:`Inputs`. Each is called under ``torch.manual_seed(seed + i)``
      for each function it feeds, so both get equal, fresh inputs (new models and optimizers for a step).
    * ``observe(result, *args, **kwargs, **also)``: what to compare after the call (default: the result), e.g.
      ``{"loss": result, "D": D, "G's gradients": grads(G)}``; a module is compared by its parameters.
    * ``gradients=True``: also compare the gradient of the (first) output with respect to each floating-point
      tensor input.
    * ``mistakes``: :class:`Mistake` hints, tried in order when the check fails.

    The global random state is left as it was, so a check cell does not change the notebook's numbers; torch
    runs on one thread and the course's models in float32 during the check (the same numbers on every machine).
    """
    label = _label(exercise)
    n = len(cases)
    # small fixed inputs: more threads only add overhead; float32, so the hints' values match on every machine
    with torch.random.fork_rng(devices=[]), one_thread(), using_precision("fp32"):
        expected = [_run(reference, case, seed + i, observe, gradients) for i, case in enumerate(cases)]
        got = []
        for i, case in enumerate(cases):
            try:
                got.append(_run(student, case, seed + i, observe, gradients))
            except NotImplementedError as err:
                _UNSOLVED.setdefault(label, None)
                raise ExerciseNotDone(_not_done(label, err)) from None
            except Exception as err:  # noqa: BLE001 - any error in the student's code becomes one sentence
                frame = traceback.extract_tb(err.__traceback__)[-1]
                where = f" at `{frame.line}`" if frame.line else ""
                first_line = str(err).strip().split("\n")[0]
                raise ExerciseFailed(f"✗ {label} raised {type(err).__name__}{where} on fixed input {i + 1} of {n}"
                                     + (f": {first_line}" if first_line else ".")) from None
        for i in range(n):
            problem = _difference(_leaves(got[i][0]), _leaves(expected[i][0]), rtol)
            if problem:
                hint = _hint(mistakes, cases, seed, observe, gradients, got, expected[i][1], rtol, i)
                raise ExerciseFailed(f"✗ {label}: {problem} on fixed input {i + 1} of {n}"
                                     + (f" — likely: {hint}." if hint else "."))
    _UNSOLVED.pop(label, None)
    print(f"✓ {label} matches the reference on {n} fixed input{'s' if n != 1 else ''}.")
    return True


def exercise_errors() -> None:
    """In IPython, show exercise errors as one sentence: a failed or unfinished check, and a stub's
    ``NotImplementedError`` met by a later cell (``This cell needs Exercise 1.2 (update_D), which is not done
    yet: ...``). It installs :func:`helpers.short_errors` too (a notebook with exercises calls only this);
    any other error keeps its full traceback."""
    short_errors()
    shell = ipython_shell()
    if shell is None:
        return
    before_types, before = shell.custom_exceptions, shell.CustomTB

    def _handler(self, etype, value, tb, tb_offset=None):
        sentence = _one_sentence(value)
        if sentence:
            return self._showtraceback(etype, value, [f"\x1b[31m{sentence}\x1b[0m"])
        if before_types and issubclass(etype, before_types):
            return before(etype, value, tb, tb_offset=tb_offset)
        return self.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc(tuple(before_types) + (ExerciseFailed, NotImplementedError, NameError), _handler)


def _one_sentence(err: BaseException) -> str | None:
    if isinstance(err, ExerciseFailed):
        return str(err)
    if isinstance(err, NameError):
        verb = "is" if len(_UNSOLVED) == 1 else "are"
        return f"{err}: a cell above stopped at {' and '.join(_UNSOLVED)}, which {verb} not done yet." if _UNSOLVED else None
    match = STUB.match(str(err)) if isinstance(err, NotImplementedError) else None
    if match:
        _UNSOLVED.setdefault(match[1], None)
    return f"This cell needs {match[1]}, which is not done yet: {match[2]}" if match else None


def _label(exercise: str) -> str:
    number, _, name = exercise.strip().partition(" ")
    if not re.fullmatch(r"\d+\.\d+", number) or not name:
        raise CourseError(f"check_exercise needs the exercise as 'NUMBER NAME' (e.g. '1.2 update_D'), not {exercise!r}.")
    return f"Exercise {number} ({name})"


def _not_done(label: str, err: NotImplementedError) -> str:
    match = STUB.match(str(err))
    if match and match[1] != label:
        return f"✗ {label} can't be checked yet: it uses {match[1]}, which is not done yet."
    what = match[2] if match else (str(err) or "its cell still raises NotImplementedError")
    return f"✗ {label} is not done yet: {what.rstrip('.')}."


def _inputs(case: Callable, seed: int) -> Inputs:
    torch.manual_seed(seed)
    made = case()
    if isinstance(made, Inputs):
        return Inputs(tuple(made.args), dict(made.kwargs), dict(made.also))
    if isinstance(made, dict):
        return Inputs((), made)
    return Inputs(made if isinstance(made, tuple) else (made,))


def _run(fn: Callable, case: Callable, seed: int, observe: Callable | None, gradients: bool) -> tuple[Any, Any]:
    """(observation to compare, the raw observation for hints)."""
    args, kwargs, also = _inputs(case, seed)
    if gradients:
        args = tuple(a.detach().clone().requires_grad_(True) if _float_tensor(a) else a for a in args)
    torch.manual_seed(seed + 10_000)  # randomness inside the function (e.g. sampling z) is the same for both
    result = fn(*args, **kwargs)
    seen = observe(result, *args, **kwargs, **also) if observe else result
    if not gradients:
        return seen, seen
    first = next(iter(_leaves(seen).values()), None)
    derived = {}
    for j in (j for j, a in enumerate(args) if _float_tensor(a)):
        name = f"the gradient with respect to input {j + 1}"
        ok = isinstance(first, torch.Tensor) and first.requires_grad
        derived[name] = (torch.autograd.grad(first.sum(), args[j], retain_graph=True, allow_unused=True)[0]
                         if ok else NOT_DIFFERENTIABLE)
        if derived[name] is None:
            derived[name] = torch.zeros_like(args[j])
    return {"the output": seen, **derived}, seen


def _float_tensor(x) -> bool:
    return isinstance(x, torch.Tensor) and x.is_floating_point()


def _leaves(obj, name: str = "the output") -> dict[str, Any]:
    if isinstance(obj, torch.nn.Module):
        return {f"{name}'s {k}": v.detach() for k, v in obj.named_parameters()}
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(_leaves(v, str(k) if name == "the output" else f"{k} in {name}"))
        return out
    if isinstance(obj, (tuple, list)):
        out = {}
        for i, v in enumerate(obj):
            out.update(_leaves(v, f"output {i + 1}" if name == "the output" else f"{name}[{i}]"))
        return out
    return {name: obj}


def _describe(x) -> str:
    if isinstance(x, torch.Tensor):
        return f"a tensor of shape {tuple(x.shape)}"
    return "None" if x is None else f"a {type(x).__name__}"


def _difference(got: dict, want: dict, rtol: float) -> str | None:
    """The first difference between two observations, as a clause of a sentence; None when they agree."""
    for key, w in want.items():
        if key not in got:
            extra = next(iter(k for k in got if k not in want), None)
            return (f"{key} is missing (yours gives {extra} instead)" if extra else f"{key} is missing")
        g = got[key]
        if g is NOT_DIFFERENTIABLE and w is not NOT_DIFFERENTIABLE:
            return ("the output is not differentiable (it was detached, or computed with .item() or NumPy), "
                    f"so {key} is missing")
        if isinstance(w, (torch.Tensor, int, float)) and not isinstance(w, bool):
            if not isinstance(g, (torch.Tensor, int, float)) or isinstance(g, bool):
                return f"{key} is {_describe(g)} where the reference gives {_describe(w)}"
            g_t, w_t = (torch.as_tensor(v).detach().double().cpu() for v in (g, w))
            if g_t.shape != w_t.shape:
                return f"{key} has shape {tuple(g_t.shape)} where the reference's has shape {tuple(w_t.shape)}"
            finite = torch.isfinite(g_t)
            # An infinity agrees only with the same infinity at the same place (a known mistake may give one).
            if not (finite.all() and torch.isfinite(w_t).all()):
                if not (torch.equal(finite, torch.isfinite(w_t)) and torch.equal(g_t[~finite], w_t[~finite])):
                    return (f"{key} contains NaN or infinity" if not finite.all()
                            else f"{key} is finite where the reference's is NaN or infinite")
                g_t, w_t = g_t[finite], w_t[finite]
            scale, off = w_t.norm().item(), (g_t - w_t).norm().item()
            if scale == 0 and off > rtol:
                return f"{key} is not zero (norm {off:.3g}) where the reference's is zero"
            err = off / scale if scale > 0 else off
            if err > rtol:
                if g_t.numel() == 1:
                    return f"{key} is {g_t.item():.4g} where the reference gives {w_t.item():.4g} (relative error {err:.0%})"
                worst = int((g_t - w_t).abs().argmax())
                return (f"{key} differs from the reference (relative error {err:.1%}; at flat index {worst} yours is "
                        f"{g_t.flatten()[worst].item():.4g}, the reference's {w_t.flatten()[worst].item():.4g})")
        elif g != w:
            return f"{key} is {g!r} where the reference gives {w!r}"
    return None


def _hint(mistakes, cases, seed, observe, gradients, got, expected_raw, rtol, i) -> str | None:
    for m in mistakes:
        if m.when is not None and m.when(got[i][1], expected_raw):
            return m.message
        if m.like is not None:
            try:
                variant = [_run(m.like, case, seed + j, observe, gradients)[0] for j, case in enumerate(cases)]
            except Exception:  # noqa: BLE001 - a variant that does not run explains nothing
                continue
            if all(_difference(_leaves(got[j][0]), _leaves(variant[j]), rtol) is None for j in range(len(cases))):
                return m.message
    return None
