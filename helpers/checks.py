"""One way to check a claim, next to the claim it backs.

``check("long training beats short training (lower FD)", q_long.fd < q_short.fd)`` prints ``✓ claim``, or
raises :class:`ClaimFailed` with the claim and what was measured, so ``pytest --nbval notebooks`` and
``make reports`` stop at the first claim that no longer holds and name it.

Some claims need the standard run's length. ``check(..., quick=False)`` still prints the measured verdict in
quick mode but fails only in standard and full mode; ``check(..., only_if=cond, why="...")`` skips a
claim that does not apply (for example to full MNIST) and says why. :func:`summary` lists every claim
checked so far in this kernel.
"""
from __future__ import annotations

from . import config

_RECORD: list[tuple[str, str]] = []   # (mark, claim) in the order checked


class ClaimFailed(AssertionError):
    """A claim the notebook makes did not hold in this run."""


def check(claim: str, ok, measured: str = "", *, quick: bool = True, only_if: bool = True, why: str = "") -> bool:
    """Print ``✓ claim`` when ``ok`` is true; otherwise raise :class:`ClaimFailed` naming the claim.

    * ``measured``: the numbers behind the verdict, printed after it (and in the error).
    * ``quick=False``: quick mode is too short for this claim; its verdict is printed but not enforced there.
    * ``only_if=False``: the claim does not apply to this run (``why`` says why); it is listed, not checked.
    """
    detail = f" ({measured})" if measured else ""
    if not only_if:
        _report("·", claim, f"not checked: {why}" if why else "not checked in this run")
        return True
    ok = bool(ok)
    if ok:
        _report("✓", claim, measured)
        return True
    if not quick and config.mode() == "quick":
        _report("·", claim, f"{measured + '; ' if measured else ''}fails in quick mode, checked in standard mode")
        return False
    _report("✗", claim, measured)
    raise ClaimFailed(f"The claim '{claim}' does not hold in this run{detail}.")


def _report(mark: str, claim: str, note: str) -> None:
    _RECORD.append((mark, claim))
    print(f"{mark} {claim}" + (f"  [{note}]" if note else ""))


def summary() -> str:
    """One line: how many claims this kernel checked, and how many held."""
    held = sum(m == "✓" for m, _ in _RECORD)
    skipped = sum(m == "·" for m, _ in _RECORD)
    failed = [c for m, c in _RECORD if m == "✗"]
    line = f"{held} of {len(_RECORD)} claims checked in this run hold"
    if skipped:
        line += f" ({skipped} not enforced in {config.mode()} mode or not applicable)"
    if failed:
        line += "; failed: " + "; ".join(failed)
    print(line)
    return line
