"""Checks for the exercises' test cells, with feedback in Spanish.

Every failed check raises :class:`Feedback` (an ``AssertionError``, so nbgrader scores the
cell 0) whose message says what was checked, what was expected, what came back and a hint
that does not give the answer away. Nothing is written to stderr: nbgrader scores a test
cell that writes to stderr as failed, even when its checks pass.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import numpy as np
import pandas as pd

__all__ = ["Feedback", "call", "check", "check_equal", "check_close", "check_type",
           "check_in", "check_columns", "passed"]


class Feedback(AssertionError):
    """A failed check of an exercise; its message is meant for the learner."""


def _show(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + " …"


def _require_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"`{name}` debe ser un texto no vacío; recibido {type(value).__name__} "
                        f"{_show(value, 60)}.")


def _fail(what: str, expected: str, got: str, hint: str) -> None:
    __tracebackhide__ = True
    lines = [f"✗ {what}", f"  Se esperaba: {expected}", f"  Se obtuvo:   {got}"]
    if hint:
        lines.append(f"  Pista: {hint}")
    raise Feedback("\n".join(lines))


def call(func: Callable, *args, **kwargs) -> Any:
    """Call the learner's function and turn its failures into feedback.

    An untouched stub (``raise NotImplementedError``) becomes "todavía no lo has escrito";
    any other exception names the function and the exception, chained to the original so
    the traceback still points at the learner's line.
    """
    __tracebackhide__ = True
    if not callable(func):
        raise TypeError(f"`func` debe ser una función; recibido {type(func).__name__}.")
    name = getattr(func, "__name__", "la función")
    try:
        return func(*args, **kwargs)
    except NotImplementedError:
        raise Feedback(
            f"✗ Todavía no has escrito `{name}`: sustituye la línea "
            f"`raise NotImplementedError()` por tu código y vuelve a ejecutar la celda."
        ) from None
    except Feedback:
        raise
    except Exception as exc:
        raise Feedback(
            f"✗ `{name}` lanzó {type(exc).__name__}: {exc}\n"
            f"  Pista: lee el mensaje y la línea de tu código que lo provoca (más arriba en "
            f"la traza)."
        ) from exc


def check(condition: bool, what: str, expected: str, got: Any, hint: str = "") -> None:
    """The general case: ``condition`` must hold; ``expected`` describes it in words."""
    __tracebackhide__ = True
    _require_text("what", what)
    _require_text("expected", expected)
    if not condition:
        _fail(what, expected, _show(got), hint)


def check_equal(got: Any, expected: Any, what: str, hint: str = "") -> None:
    """``got == expected`` (for arrays and frames: same shape and values)."""
    __tracebackhide__ = True
    _require_text("what", what)
    if isinstance(expected, (pd.DataFrame, pd.Series)):
        same = isinstance(got, type(expected)) and got.equals(expected)
    elif isinstance(expected, np.ndarray):
        same = isinstance(got, np.ndarray) and got.shape == expected.shape and \
            bool(np.array_equal(got, expected))
    else:
        try:
            same = bool(got == expected)
        except (TypeError, ValueError):  # e.g. an array compared with a number
            same = False
    if not same:
        _fail(what, _show(expected), _show(got), hint)


def check_close(got: Any, expected: float, what: str, tol: float = 1e-6, hint: str = "") -> None:
    """A number within ``tol`` (absolute) of ``expected``."""
    __tracebackhide__ = True
    _require_text("what", what)
    if not isinstance(expected, numbers.Real) or isinstance(expected, bool):
        raise TypeError(f"`expected` debe ser un número; recibido {type(expected).__name__}.")
    if not isinstance(tol, numbers.Real) or isinstance(tol, bool) or not tol >= 0:
        raise ValueError(f"`tol` debe ser un número >= 0; recibido {_show(tol, 60)}.")
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        _fail(what, f"un número cercano a {expected:g}",
              f"{type(got).__name__} {_show(got)}",
              hint or "devuelve un número (float), no una lista, un texto ni None.")
    if math.isnan(float(got)) or abs(float(got) - float(expected)) > tol:
        _fail(what, f"{expected:.6g} (± {tol:g})", f"{float(got):.6g}", hint)


def check_type(got: Any, expected_type: type | tuple[type, ...], what: str, hint: str = "") -> None:
    """``got`` is an instance of ``expected_type``."""
    __tracebackhide__ = True
    _require_text("what", what)
    types = expected_type if isinstance(expected_type, tuple) else (expected_type,)
    if not types or not all(isinstance(t, type) for t in types):
        raise TypeError("`expected_type` debe ser un tipo o una tupla de tipos, p. ej. float.")
    if not isinstance(got, types):
        names = " o ".join(t.__name__ for t in types)
        _fail(what, f"un valor de tipo {names}", f"{type(got).__name__} {_show(got, 120)}", hint)


def check_in(got: Any, options, what: str, hint: str = "") -> None:
    """``got`` is one of ``options``."""
    __tracebackhide__ = True
    _require_text("what", what)
    options = list(options)
    if not options:
        raise ValueError("`options` no puede estar vacío.")
    if got not in options:
        _fail(what, "uno de " + ", ".join(_show(o) for o in options), _show(got), hint)


def check_columns(frame: Any, columns, what: str, hint: str = "") -> None:
    """``frame`` is a DataFrame that has (at least) these columns."""
    __tracebackhide__ = True
    _require_text("what", what)
    columns = list(columns)
    check_type(frame, pd.DataFrame, what, hint or "devuelve un pandas.DataFrame.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        _fail(what, f"las columnas {columns}", f"columnas {list(frame.columns)} (faltan {missing})",
              hint)


def _short_tracebacks() -> None:
    """In IPython, show a failed check as its message alone, without our own frames.

    A Feedback that wraps an error of the learner's code (``__cause__``) keeps the full
    traceback, which points at the learner's line. nbgrader still sees an error output, so
    the cell scores 0 either way.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def show(self, etype, value, tb, tb_offset=None):
        if value.__cause__ is not None:
            self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        else:
            self._showtraceback(etype, value, [f"{etype.__name__}: {value}"])

    shell.set_custom_exc((Feedback,), show)


_short_tracebacks()


def passed(exercise: str) -> None:
    """The success line a test cell prints after its visible checks."""
    _require_text("exercise", exercise)
    print(f"✔ {exercise}: las comprobaciones visibles pasan.")
