"""The exercises' feedback: what was expected, what came back, a hint; never stderr."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from curso_mlops import feedback
from curso_mlops.feedback import Feedback


def stub(x):
    raise NotImplementedError()


def broken(x):
    return x / 0


def test_an_untouched_stub_says_it_is_not_written_yet():
    with pytest.raises(Feedback, match="Todavía no has escrito `stub`"):
        feedback.call(stub, 1)


def test_an_error_in_the_learners_code_names_function_and_error():
    with pytest.raises(Feedback, match="`broken` lanzó ZeroDivisionError") as info:
        feedback.call(broken, 1)
    assert isinstance(info.value.__cause__, ZeroDivisionError)  # the learner's line stays visible


def test_call_returns_the_value():
    assert feedback.call(lambda x: x + 1, 1) == 2


def test_failure_message_has_expected_got_and_hint():
    with pytest.raises(Feedback) as info:
        feedback.check_close(0.5, 0.0, "psi de dos muestras iguales", tol=1e-3, hint="revisa los cortes")
    text = str(info.value)
    assert "✗ psi de dos muestras iguales" in text
    assert "Se esperaba: 0 (± 0.001)" in text
    assert "Se obtuvo:   0.5" in text
    assert "Pista: revisa los cortes" in text


def test_passing_checks_are_silent(capsys):
    feedback.check_close(0.1000001, 0.1, "x", tol=1e-3)
    feedback.check_equal("nada", "nada", "decisión")
    feedback.check_equal(np.array([1, 2]), np.array([1, 2]), "array")
    feedback.check_equal(pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1]}), "tabla")
    feedback.check_type(1.0, float, "tipo")
    feedback.check_in("alertar", ["nada", "alertar"], "decisión")
    feedback.check_columns(pd.DataFrame({"a": [1], "b": [2]}), ["a"], "columnas")
    feedback.check(True, "algo", "que se cumpla", None)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@pytest.mark.parametrize("call, words", [
    (lambda: feedback.check_close("0.1", 0.1, "psi"), "un número cercano"),
    (lambda: feedback.check_close(float("nan"), 0.1, "psi"), "nan"),
    (lambda: feedback.check_equal(np.array([1, 2]), np.array([1, 3]), "array"), "array"),
    (lambda: feedback.check_equal([1], 1, "lista"), "Se esperaba: 1"),
    (lambda: feedback.check_type("a", (int, float), "tipo"), "int o float"),
    (lambda: feedback.check_in("quizá", ["nada", "alertar"], "decisión"), "uno de 'nada', 'alertar'"),
    (lambda: feedback.check_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "cols"), "faltan \\['b'\\]"),
    (lambda: feedback.check_columns([1], ["a"], "cols"), "DataFrame"),
    (lambda: feedback.check(False, "algo", "que se cumpla", 3, "mira"), "Pista: mira"),
])
def test_failures_are_feedback(call, words):
    with pytest.raises(Feedback, match=words):
        call()


@pytest.mark.parametrize("call, kind, words", [
    (lambda: feedback.check_close(1.0, "1", "x"), TypeError, "`expected`"),
    (lambda: feedback.check_close(1.0, 1.0, "x", tol=-1), ValueError, "`tol`"),
    (lambda: feedback.check_equal(1, 1, ""), TypeError, "`what`"),
    (lambda: feedback.check_type(1, "float", "x"), TypeError, "`expected_type`"),
    (lambda: feedback.check_in(1, [], "x"), ValueError, "`options`"),
    (lambda: feedback.call(42), TypeError, "`func`"),
    (lambda: feedback.passed(""), TypeError, "`exercise`"),
])
def test_wrong_use_of_the_helpers_is_explained(call, kind, words):
    with pytest.raises(kind, match=words):
        call()


def test_passed_prints_one_line_to_stdout(capsys):
    feedback.passed("Ejercicio 1.1")
    out = capsys.readouterr()
    assert out.out == "✔ Ejercicio 1.1: las comprobaciones visibles pasan.\n" and out.err == ""
