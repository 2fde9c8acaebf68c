"""The template gate catches each way a notebook can drift from CONTRIBUTING.md."""

from __future__ import annotations

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from curso_mlops import template


def _grader(grade_id, *, grade, solution, points=None, locked=False):
    meta = {"grade": grade, "solution": solution, "grade_id": grade_id, "locked": locked,
            "schema_version": 3, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _exercise(m, name):
    lead = new_markdown_cell(f"### Ejercicio 1.{m}: {name}\n\nQué construir y por qué.")
    answer = new_code_cell(f"def f{m}(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION",
                           metadata=_grader(f"ej42-1-{m}-{name}", grade=False, solution=True),
                           execution_count=1)
    test = new_code_cell(
        f"feedback.check_equal(feedback.call(f{m}, 1), 1, 'f(1)')\nfeedback.passed('Ejercicio 1.{m}')\n"
        f"### BEGIN HIDDEN TESTS\nfeedback.check_equal(feedback.call(f{m}, 2), 2, 'f(2)')\n"
        "### END HIDDEN TESTS",
        metadata=_grader(f"ej42-1-{m}-{name}-tests", grade=True, solution=False, points=1, locked=True),
        execution_count=1)
    return [lead, answer, test]


def valid():
    cells = [
        new_markdown_cell("# Tema 42 · Prueba\n\n**Preguntas:** Q03\n\n**Al terminar serás capaz de:**"
                          "\n- algo\n\n**Tiempo estimado:** 10 min\n\n**Nivel:** [Básico]"),
        new_markdown_cell("## Preparación"),
        new_code_cell("from curso_mlops import feedback", execution_count=1),
        new_markdown_cell("## Pregunta 1: ¿Algo?"),
        new_markdown_cell("### Respuesta de entrevista\n\nRespuesta."),
        new_markdown_cell("### A fondo\n\n```mermaid\nflowchart LR\n  A --> B\n```"),
        new_markdown_cell("### Manos a la obra"),
        new_code_cell("print(1)", execution_count=1),
    ]
    for m, name in enumerate(["uno", "dos", "tres", "cuatro"], start=1):
        cells += _exercise(m, name)
    cells += [
        new_markdown_cell("### Ejercicio 1.5: texto\n\nEn 100 palabras…"),
        new_markdown_cell("Respuesta.\n\n### BEGIN SOLUTION\nModelo y rúbrica.\n### END SOLUTION",
                          metadata=_grader("ej42-1-5-texto", grade=True, solution=True, points=2)),
        new_markdown_cell("### Para la entrevista\n\n**Puntos clave**\n\n**Preguntas de seguimiento**"
                          "\n\n**Errores que evitar**"),
        new_markdown_cell("## Resumen\n\nHecho."),
    ]
    return new_notebook(cells=cells)


def problems(nb, tmp_path):
    path = tmp_path / "42-prueba.ipynb"
    nbformat.write(nb, path)
    return template.check(path)


def test_the_reference_shape_passes(tmp_path):
    assert problems(valid(), tmp_path) == []


def _find(nb, text):
    return next(i for i, c in enumerate(nb.cells) if text in c.source)


def _drop_resumen(nb):
    del nb.cells[_find(nb, "## Resumen")]


def _rename_grade_id(nb):
    nb.cells[_find(nb, "def f2")].metadata["nbgrader"]["grade_id"] = "ejercicio-dos"


def _bare_expression(nb):
    nb.cells[_find(nb, "f(2)")].source += "\n0.5"


def _exercise_after_box(nb):
    i = _find(nb, "Ejercicio 1.4")
    moved = nb.cells[i:i + 3]
    del nb.cells[i:i + 3]
    j = _find(nb, "### Para la entrevista")
    nb.cells[j + 1:j + 1] = moved


def _no_hidden_tests(nb):
    i = _find(nb, "f(2)")
    nb.cells[i].source = nb.cells[i].source.split("### BEGIN HIDDEN TESTS")[0]


def _test_cell_missing(nb):
    del nb.cells[_find(nb, "feedback.passed('Ejercicio 1.3')")]


def _stderr_in_tests(nb):
    nb.cells[_find(nb, "Ejercicio 1.1')")].outputs = [
        new_output("stream", name="stderr", text="FutureWarning")]


def _unexecuted(nb):
    nb.cells[_find(nb, "print(1)")].execution_count = None


def _no_figure(nb):
    nb.cells[_find(nb, "### A fondo")].source = "### A fondo\n\nSolo texto."


def _no_level(nb):
    nb.cells[0].source = nb.cells[0].source.replace("[Básico]", "fácil")


def _subsections_swapped(nb):
    i, j = _find(nb, "### Respuesta de entrevista"), _find(nb, "### A fondo")
    nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]


def _box_incomplete(nb):
    nb.cells[_find(nb, "### Para la entrevista")].source = "### Para la entrevista\n\n**Puntos clave**"


def _no_manual_answer(nb):
    i = _find(nb, "Ejercicio 1.5")
    del nb.cells[i:i + 2]


@pytest.mark.parametrize("mutate, words", [
    (_drop_resumen, "'Resumen'"),
    (_rename_grade_id, "debe empezar por 'ej42-1-2-'"),
    (_bare_expression, "expresión suelta"),
    (_exercise_after_box, "entre 'Manos a la obra' y 'Para la entrevista'"),
    (_no_hidden_tests, "pruebas ocultas"),
    (_test_cell_missing, "celda de pruebas"),
    (_stderr_in_tests, "stderr"),
    (_unexecuted, "sin ejecutar"),
    (_no_figure, "diagrama Mermaid o una gráfica"),
    (_no_level, "nivel"),
    (_subsections_swapped, "subsecciones"),
    (_box_incomplete, "Preguntas de seguimiento"),
    (_no_manual_answer, "respuestas libres"),
])
def test_each_deviation_is_reported(mutate, words, tmp_path):
    nb = copy.deepcopy(valid())
    mutate(nb)
    found = problems(nb, tmp_path)
    assert any(words in p for p in found), found
