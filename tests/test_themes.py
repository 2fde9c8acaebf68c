"""Generic checks for every theme found in solutions/: a new theme gets them for free.

nbval (run by `make test` over solutions/) re-executes each solution and compares outputs;
these tests cover the nbgrader side: grades read from the gradebook, never exit codes.
"""

from __future__ import annotations

import filecmp
import re

import nbformat
import pytest

from conftest import ROOT, THEMES
from curso_mlops import authoring, grading, template

BLANK_BOUND_SECONDS = 300  # generate + autograde of an untouched exercise, hang guard


@pytest.fixture(scope="module", params=THEMES)
def graded(request):
    """Autograde the solution and the untouched release of one theme in one course."""
    theme = request.param
    reports = grading.grade(theme, {
        "solucion": authoring.notebook_path(theme, ROOT / "solutions"),
        "en-blanco": authoring.notebook_path(theme, ROOT / "exercises"),
    })
    return theme, reports


@pytest.mark.slow
def test_solution_scores_full_marks(graded):
    theme, reports = graded
    report = reports["solucion"]
    lost = [c for c in report.cells if c.auto and c.points != c.max_points]
    assert report.auto_max > 0, f"{theme}: no hay celdas autocorregidas"
    assert not lost, f"{theme}: la solución pierde puntos en {lost}\n{report.log[-3000:]}"
    # answers graded by hand wait for the instructor; they must exist and carry points
    assert report.manual_max > 0, f"{theme}: no hay respuesta libre corregida a mano"


@pytest.mark.slow
def test_untouched_exercise_scores_zero_without_error(graded):
    theme, reports = graded
    report = reports["en-blanco"]
    assert report.auto_score == 0, f"{theme}: el ejercicio sin tocar puntúa {report.auto_score}"
    assert len(report.cells) == len(reports["solucion"].cells)
    assert report.seconds < BLANK_BOUND_SECONDS, f"{theme}: tardó {report.seconds:.0f} s"
    for problem in ("CellTimeoutError", "DeadKernelError", "Traceback (most recent call last)"):
        assert problem not in report.log, f"{theme}: nbgrader informó {problem}:\n{report.log[-3000:]}"


def test_exercises_are_exactly_the_release(tmp_path):
    """exercises/ is what `make ejercicios` produces from solutions/, byte for byte."""
    fresh = tmp_path / "exercises"
    authoring.release(fresh, ROOT / "solutions")
    committed = ROOT / "exercises"
    ours = sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert ours == theirs, "exercises/ no tiene los mismos ficheros que la publicación: make ejercicios"
    stale = [str(p) for p in ours if not filecmp.cmp(committed / p, fresh / p, shallow=False)]
    assert not stale, f"exercises/ desincronizado en {stale}: ejecuta make ejercicios"


def _secret_lines(nb) -> tuple[list[str], set[str]]:
    secret, public = [], set()
    for cell in nb.cells:
        text = cell.source
        for begin, end in (("BEGIN SOLUTION", "END SOLUTION"),
                           ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")):
            for block in re.findall(rf"{begin}(.*?){end}", text, flags=re.S):
                secret += [ln.strip() for ln in block.splitlines()
                           if len(ln.strip()) >= 12 and not ln.strip().startswith("#")]
        outside = re.sub(r"BEGIN (SOLUTION|HIDDEN TESTS).*?END (SOLUTION|HIDDEN TESTS)", "", text,
                         flags=re.S)
        public.update(ln.strip() for ln in outside.splitlines())
    return secret, public


@pytest.mark.parametrize("theme", THEMES)
def test_nothing_of_the_solution_leaks(theme):
    solution = nbformat.read(authoring.notebook_path(theme, ROOT / "solutions"), as_version=4)
    exercise = nbformat.read(authoring.notebook_path(theme, ROOT / "exercises"), as_version=4)
    released = "\n".join(c.source for c in exercise.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
                   "BEGIN MARK SCHEME"):
        assert marker not in released, f"{theme}: '{marker}' quedó en el ejercicio"
    released_lines = {ln.strip() for ln in released.splitlines()}
    secret, public = _secret_lines(solution)
    leaked = [ln for ln in secret if ln in released_lines and ln not in public]
    assert not leaked, f"{theme}: líneas de la solución en el ejercicio: {leaked[:5]}"
    assert not any(c.get("outputs") for c in exercise.cells if c.cell_type == "code"), \
        f"{theme}: el ejercicio lleva salidas guardadas"
    for nb, where in ((solution, "solutions"), (exercise, "exercises")):
        timed = [c.metadata.get("nbgrader", {}).get("grade_id", i) for i, c in enumerate(nb.cells)
                 if {"execution", "ExecuteTime"} & set(c.metadata)]
        assert not timed, f"{where}/{theme}: metadatos de tiempo en las celdas {timed[:5]}"
        assert "widgets" not in nb.metadata, f"{where}/{theme}: estado de widgets guardado"


@pytest.mark.parametrize("theme", THEMES)
def test_theme_follows_the_template(theme):
    problems = template.check(authoring.notebook_path(theme, ROOT / "solutions"))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("theme", THEMES)
def test_theme_folder_holds_only_its_notebook_and_is_small(theme):
    folder = ROOT / "solutions" / theme
    extra = [p.name for p in folder.iterdir() if p.name not in {f"{theme}.ipynb",
                                                                 ".ipynb_checkpoints"}]
    assert not extra, f"nbgrader daría a los alumnos estos ficheros de {folder}: {extra}"
    for base in ("solutions", "exercises"):
        size = authoring.notebook_path(theme, ROOT / base).stat().st_size
        assert size < 2_000_000, f"{base}/{theme}: {size / 1e6:.1f} MB (máximo 2 MB)"


def test_grade_ids_are_unique_across_the_course():
    seen: dict[str, str] = {}
    for theme in THEMES:
        for gid in template.grade_ids(authoring.notebook_path(theme, ROOT / "solutions")):
            assert gid not in seen, f"grade_id {gid} repetido en {theme} y {seen[gid]}"
            seen[gid] = theme
