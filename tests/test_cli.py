"""The `curso` command line: help, bad input, checking a notebook, progress, reset.

Learner-side commands run against a workspace in tmp_path (``workspace.WORKSPACE`` and
``EXERCISES`` patched) and the tiny theme of ``minitema``; class grading is in
test_classroom.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import nbformat
import pytest

import minitema
from conftest import ROOT
from curso_mlops import cli, progress, workspace

COMMANDS = ["comprobar", "progreso", "reiniciar", "corregir", "exportar", "benchmark-correccion"]


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return minitema.write_and_release(tmp_path_factory.mktemp("mini"))


@pytest.fixture
def learner(mini, tmp_path, monkeypatch):
    """A learner's checkout: the mini theme released, copies made in trabajo/."""
    _, release = mini
    exercises = tmp_path / "exercises"
    exercises.mkdir()
    (exercises / minitema.THEME).mkdir()
    (exercises / minitema.THEME / f"{minitema.THEME}.ipynb").write_bytes(
        (release / minitema.THEME / f"{minitema.THEME}.ipynb").read_bytes())
    other = exercises / "98-otro"
    other.mkdir()
    (other / "98-otro.ipynb").write_bytes((release / minitema.THEME / f"{minitema.THEME}.ipynb").read_bytes())
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "00-bienvenida.ipynb").write_text("{}")
    monkeypatch.setattr(workspace, "EXERCISES", exercises)
    monkeypatch.setattr(workspace, "NOTEBOOKS", notebooks)
    monkeypatch.setattr(workspace, "WORKSPACE", tmp_path / "trabajo")
    workspace.prepare(exercises, tmp_path / "trabajo", notebooks)
    return tmp_path / "trabajo"


def _answer(path, grade_id, code):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = code
    nbformat.write(nb, path)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_spanish_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"] if command else ["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("uso: curso") and "muestra esta ayuda" in out


def test_bad_input_is_one_spanish_line_and_a_nonzero_exit(tmp_path, capsys, learner):
    cases = [
        (["comprobar", "77-no-existe"], "Tema desconocido"),
        (["comprobar", str(tmp_path / "falta.ipynb")], "No encuentro el cuaderno"),
        (["comprobar", str(ROOT / "README.md")], "no es un cuaderno"),
        (["reiniciar", "77-no-existe"], "No conozco"),
        (["corregir", "01-deriva", str(tmp_path / "no-hay")], "No encuentro la carpeta"),
        (["corregir", "77-no-existe", str(tmp_path)], "Tema desconocido"),
        (["exportar", "--curso", str(tmp_path)], "no tiene gradebook.db"),
    ]
    for argv, expected in cases:
        assert cli.main(argv) == 1, argv
        err = capsys.readouterr().err.strip()
        assert expected in err and len(err.splitlines()) == 1, (argv, err)
    with pytest.raises(SystemExit) as done:
        cli.main(["corregir", "--trabajadores", "0", "01-deriva", "x"])
    assert done.value.code == 2 and "debe ser mayor que 0" in capsys.readouterr().err
    # the module and the console script run too, without a traceback
    run = subprocess.run([sys.executable, "-m", "curso_mlops.cli", "comprobar", "77-no-existe"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1 and "Traceback" not in run.stderr and "Tema desconocido" in run.stderr


@pytest.mark.slow
def test_check_prints_each_exercise_with_its_feedback_and_leaves_the_notebook(
        mini, learner, capsys):
    source, _ = mini
    mine = learner / minitema.THEME / f"{minitema.THEME}.ipynb"
    # passes the visible test, fails a hidden one; the second exercise untouched
    _answer(mine, "ej99-1-1-doble", "def doble(x):\n    return 4 if x == 2 else 0")
    before = mine.read_bytes()
    assert cli.main(["comprobar", minitema.THEME, "--fuente", str(source)]) == 0
    out = capsys.readouterr().out
    assert mine.read_bytes() == before
    assert re.search(r"✗ ej99-1-1-doble-tests\s+0 / 2", out)
    assert "doble falla con números negativos" in out
    assert minitema.SECRET not in out
    assert "la corrige tu profesor" in out and "Nota automática: 0 / 5" in out
    # a notebook that cannot be graded: the reason, in one line
    broken = learner / "roto.ipynb"
    broken.write_text("{ no es JSON")
    assert cli.main(["comprobar", str(broken), "--tema", minitema.THEME, "--fuente", str(source)]) == 1
    err = capsys.readouterr().err.strip()
    assert "no es un cuaderno" in err and len(err.splitlines()) == 1
    # the score is remembered for `curso progreso`, tied to this exact notebook
    saved = json.loads((learner / progress.SCORES / f"{minitema.THEME}.json").read_text())
    assert saved["score"] == 0 and saved["max_score"] == 5
    assert saved["sha256"] == progress.digest(mine)


def test_progress_table_and_html_report(learner, capsys):
    mine = learner / minitema.THEME / f"{minitema.THEME}.ipynb"
    assert progress.theme_progress(minitema.THEME).status == progress.NOT_STARTED
    _answer(mine, "ej99-1-1-doble", "def doble(x):\n    return 2 * x")
    assert progress.theme_progress(minitema.THEME).status == progress.IN_PROGRESS
    progress.save_score(minitema.THEME, mine, 5, 5)
    done = progress.theme_progress(minitema.THEME)
    assert (done.status, done.score, done.stale) == (progress.DONE, 5, False)
    _answer(mine, "ej99-1-2-suma", "def suma(xs):\n    return 0")
    changed = progress.theme_progress(minitema.THEME)
    assert (changed.status, changed.stale) == (progress.IN_PROGRESS, True)
    (learner / "98-otro" / "98-otro.ipynb").unlink()
    assert cli.main(["progreso"]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"{minitema.THEME}\s+en curso\s+5/5\s+desactualizada", out)
    assert re.search(r"98-otro\s+sin empezar\s+—", out)
    assert "curso progreso --calificar" in out
    page = (learner / "progreso.html").read_text()
    assert "<img" in page and "data:image/png;base64," in page and minitema.THEME in page


@pytest.mark.slow
@pytest.mark.xdist_group("clase")
def test_progress_can_grade_the_themes_in_progress(mini, learner, capsys):
    source, _ = mini
    mine = learner / minitema.THEME / f"{minitema.THEME}.ipynb"
    _answer(mine, "ej99-1-1-doble", "def doble(x):\n    return 2 * x")
    assert cli.main(["progreso", "--calificar", "--fuente", str(source)]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"{minitema.THEME}\s+en curso\s+2/5", out)


def test_reset_always_keeps_a_backup_and_never_overwrites_one(learner, capsys):
    mine = learner / minitema.THEME / f"{minitema.THEME}.ipynb"
    fresh = mine.read_bytes()
    _answer(mine, "ej99-1-1-doble", "def doble(x):\n    return 2 * x  # mi versión")
    mine_v1 = mine.read_bytes()
    assert cli.main(["reiniciar", minitema.THEME]) == 0
    assert mine.read_bytes() == fresh
    _answer(mine, "ej99-1-1-doble", "def doble(x):\n    return x * 2  # otra")
    mine_v2 = mine.read_bytes()
    assert cli.main(["reiniciar", minitema.THEME]) == 0  # same second: a suffix, not a clash
    backups = sorted((learner / ".copias").iterdir())
    assert [b.read_bytes() for b in backups] == [mine_v1, mine_v2] or \
        sorted(b.read_bytes() for b in backups) == sorted([mine_v1, mine_v2])
    for b in backups:
        assert re.fullmatch(rf"{minitema.THEME}-\d{{8}}-\d{{6}}(-\d+)?\.ipynb", b.name), b.name
    out = capsys.readouterr().out
    assert "a salvo en" in out
    # the welcome lives in trabajo/ too, and resets the same way
    (learner / "00-bienvenida.ipynb").write_text('{"mine": 1}')
    assert cli.main(["reiniciar", "00-bienvenida"]) == 0
    assert (learner / "00-bienvenida.ipynb").read_text() == "{}"
    assert any(b.read_text() == '{"mine": 1}' for b in (learner / ".copias").glob("00-bienvenida-*"))
