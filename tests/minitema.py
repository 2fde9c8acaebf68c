"""A tiny instructor theme (two autograded exercises, hidden tests, one answer graded by hand)
and the submissions the class-grading tests build from it: a real theme takes ~10 s a
notebook, this one well under a second, so the robustness corpus stays cheap."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

THEME = "99-mini"
SECRET = "secreto_oculto_42"  # only in a hidden test: must never reach a learner's feedback


def _meta(grade_id, *, solution=False, grade=False, locked=False, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def instructor_notebook() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# Mini tema\n\nDos ejercicios para probar la corrección de una clase.",
                          metadata=_meta("intro", locked=True)),
        new_code_cell("def doble(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                      metadata=_meta("ej99-1-1-doble", solution=True)),
        new_code_cell('assert doble(2) == 4, "doble(2) debería valer 4"\n'
                      'print("✔ Ejercicio 1.1")\n'
                      "### BEGIN HIDDEN TESTS\n"
                      f"{SECRET} = -14\n"
                      f'assert doble(-7) == {SECRET}, "doble falla con números negativos"\n'
                      "### END HIDDEN TESTS",
                      metadata=_meta("ej99-1-1-doble-tests", grade=True, locked=True, points=2)),
        new_code_cell("def suma(xs):\n    ### BEGIN SOLUTION\n    return sum(xs)\n    ### END SOLUTION",
                      metadata=_meta("ej99-1-2-suma", solution=True)),
        new_code_cell('assert suma([1, 2]) == 3, "suma([1, 2]) debería valer 3"\n'
                      "### BEGIN HIDDEN TESTS\n"
                      "assert suma([]) == 0\n"
                      "### END HIDDEN TESTS",
                      metadata=_meta("ej99-1-2-suma-tests", grade=True, locked=True, points=3)),
        new_markdown_cell("### BEGIN SOLUTION\nPorque sí.\n### END SOLUTION",
                          metadata=_meta("ej99-1-3-texto", solution=True, grade=True, points=1)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"}, "language_info": {"name": "python"}}
    return nb


def write_source(base: Path) -> Path:
    """``base/<THEME>/<THEME>.ipynb``; returns ``base`` (the folder of theme folders)."""
    (base / THEME).mkdir(parents=True, exist_ok=True)
    nbformat.write(instructor_notebook(), base / THEME / f"{THEME}.ipynb")
    return base


def write_and_release(base: Path) -> tuple[Path, Path]:
    """The tiny theme's source under ``base/fuente`` and its nbgrader release under
    ``base/publicado`` (generated as exercises/ is): ``(source, release)``."""
    from curso_mlops import authoring

    source = write_source(base / "fuente")
    authoring.release(base / "publicado", source)
    return source, base / "publicado"


def _answer(nb, grade_id, code):
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code
            return nb
    raise KeyError(grade_id)


def _solution():
    return instructor_notebook()


def good(release: Path) -> dict[str, nbformat.NotebookNode]:
    """Three ordinary learners: full marks, untouched release, half done."""
    blank = nbformat.read(release / THEME / f"{THEME}.ipynb", as_version=4)
    partial = copy.deepcopy(blank)
    _answer(partial, "ej99-1-1-doble", "def doble(x):\n    return x + x")
    wrong_hidden = copy.deepcopy(blank)  # passes the visible test, fails the hidden one
    _answer(wrong_hidden, "ej99-1-1-doble", "def doble(x):\n    return 4 if x == 2 else 0")
    _answer(wrong_hidden, "ej99-1-2-suma", "def suma(xs):\n    return sum(xs)")
    return {"ana": _solution(), "blas": blank, "carla": partial, "dani": wrong_hidden}


def bad(release: Path) -> dict[str, object]:
    """The robustness corpus: ``{student: notebook | bytes | None}`` (None: no notebook).

    Bytes are written as they are; a notebook whose name should change is a
    ``("nombre.ipynb", notebook)`` pair.
    """
    blank = nbformat.read(release / THEME / f"{THEME}.ipynb", as_version=4)

    def learner(**answers):
        nb = copy.deepcopy(blank)
        for gid, code in answers.items():
            _answer(nb, gid.replace("_", "-"), code)
        return nb

    ok_suma = "def suma(xs):\n    return sum(xs)"
    corpus: dict[str, object] = {
        # an infinite loop in one cell: the cell times out, the rest is graded
        "bucle": learner(ej99_1_1_doble="while True:\n    pass", ej99_1_2_suma=ok_suma),
        # a loop that ignores the interrupt: only the notebook deadline stops it
        "bucle-terco": learner(ej99_1_1_doble="import signal, time\n"
                               "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                               "while True:\n    time.sleep(0.01)"),
        "mata-nucleo": learner(ej99_1_1_doble="import os\nos._exit(3)", ej99_1_2_suma=ok_suma),
        "memoria": learner(ej99_1_1_doble="hoard = []\nwhile True:\n"
                           "    hoard.append(bytearray(50 * 1024 * 1024))",
                           ej99_1_2_suma=ok_suma),
        "megas": learner(ej99_1_1_doble="print('x' * 5_000_000)\nfor i in range(100_000):\n"
                         "    print(i)\nfrom IPython.display import HTML, display\n"
                         "display(HTML('<p>' * 2_000_000))\n"
                         "def doble(x):\n    return 2 * x", ej99_1_2_suma=ok_suma),
        "renombrado": ("mi-entrega.ipynb", learner(ej99_1_2_suma=ok_suma)),
        "borrado": None,
        "no-json": b'{"cells": [ esto no es JSON',
    }
    # edits a test cell to always pass (and the answer is wrong): graded with the real tests
    tampered = learner(ej99_1_1_doble="def doble(x):\n    return 0", ej99_1_2_suma=ok_suma)
    for cell in tampered.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ej99-1-1-doble-tests":
            cell.source = "pass"
    corpus["trampa"] = tampered
    # deletes a test cell: put back by nbgrader and graded
    deleted = learner(ej99_1_2_suma=ok_suma)
    deleted.cells = [c for c in deleted.cells
                     if c.metadata.get("nbgrader", {}).get("grade_id") != "ej99-1-2-suma-tests"]
    corpus["sin-prueba"] = deleted
    # saved by an older nbgrader (metadata schema 1) and an older notebook format (4.0)
    old = learner(ej99_1_2_suma=ok_suma)
    old.nbformat_minor = 0
    for cell in old.cells:
        meta = cell.metadata.get("nbgrader")
        if meta:
            meta["schema_version"] = 1
            meta.pop("cell_type", None)
            meta.pop("task", None)
        cell.pop("id", None)
    corpus["viejo"] = old
    # saved as nbformat 3 (worksheets), as Jupyter < 3 did
    corpus["formato3"] = nbformat.writes(
        nbformat.convert(learner(ej99_1_2_suma=ok_suma), 3), version=3).encode()
    newer = learner(ej99_1_2_suma=ok_suma)
    for cell in newer.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"]["schema_version"] = 9
    corpus["futuro"] = newer
    # every cell is quick enough, the notebook as a whole is not: the notebook deadline
    slow = learner(ej99_1_2_suma=ok_suma)
    slow.cells += [new_code_cell("import time\ntime.sleep(2.5)") for _ in range(8)]
    corpus["lento"] = slow
    return corpus


def write_submissions(folder: Path, notebooks: dict[str, object]) -> Path:
    """Write ``notebooks`` in nbgrader's ``submitted/<alumno>/<tema>/`` layout."""
    for student, nb in notebooks.items():
        where = folder / student / THEME
        where.mkdir(parents=True, exist_ok=True)
        name = f"{THEME}.ipynb"
        if isinstance(nb, tuple):
            name, nb = nb
        if nb is None:
            (where / "LEEME.txt").write_text("borré el cuaderno")
        elif isinstance(nb, bytes):
            (where / name).write_bytes(nb)
        else:
            (where / name).write_text(json.dumps(nb, ensure_ascii=False))
    return folder
