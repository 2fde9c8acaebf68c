"""A workshop end to end: one instructor, three students, one shared nbgrader exchange.

Each person is a separate account as nbgrader sees it: their own ``HOME``, Jupyter config
and working folder, and the student id nbgrader files their submission under
(``CourseDirectory.student_id``). They share only the exchange directory, as they would on
one server or on a shared volume in Kubernetes. They are not separate Unix users (that
needs root), so the owner check of ``collect`` is switched off: every file here belongs to
the same Unix user, and nbgrader would otherwise warn of a "cheating attempt".

Grades are read from the gradebook, never from exit codes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("taller")]

THEME = "00-introduccion"  # among the fastest themes to grade, with a hand-graded answer
COURSE = "curso-mlops"
# what each student hands in: every answer, the first two exercises only, nothing
WORK = {"ana": "solucion", "bruno": "parcial", "carla": "en-blanco"}
PARTIAL = ("ej00-1-1-validar-lote", "ej00-2-1-devops-o-mlops")
MANUAL_ID, MANUAL_SCORE = "ej00-1-2-respuesta-90-segundos", 3.0  # the instructor's mark for ana
STEP_TIMEOUT = 300


def _run(person: Path, args: list[str], exchange: Path, student: str | None = None) -> str:
    """One nbgrader command as ``person``: their HOME, their Jupyter config, their folder."""
    env = {**os.environ, "HOME": str(person), "JUPYTER_CONFIG_DIR": str(person / ".jupyter"),
           "JUPYTER_DATA_DIR": str(person / ".local/share/jupyter"),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
           "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--Exchange.root={exchange}",
           f"--CourseDirectory.course_id={COURSE}"]
    if student:
        cmd.append(f"--CourseDirectory.student_id={student}")
    done = subprocess.run(cmd, cwd=person, env=env, capture_output=True, text=True,
                          timeout=STEP_TIMEOUT)
    log = done.stdout + done.stderr
    assert done.returncode == 0, f"nbgrader {args[0]} ({person.name}) falló:\n{log[-3000:]}"
    return log


def _answers(theme: str) -> dict[str, str]:
    """The solution's answer code per grade_id, without nbgrader's solution markers."""
    nb = nbformat.read(ROOT / "solutions" / theme / f"{theme}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]:
            "\n".join(ln for ln in c.source.splitlines()
                      if not re.search(r"### (BEGIN|END) SOLUTION", ln))
            for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}


def _points(theme: str) -> dict[str, float]:
    nb = nbformat.read(ROOT / "solutions" / theme / f"{theme}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def _work(notebook: Path, kind: str) -> None:
    """Answer the fetched notebook in place, as the student would in JupyterLab."""
    fill = {"solucion": set(_answers(THEME)), "parcial": set(PARTIAL), "en-blanco": set()}[kind]
    nb = nbformat.read(notebook, as_version=4)
    answers = _answers(THEME)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in fill:
            cell.source = answers[gid]
    nbformat.write(nb, notebook)


@pytest.fixture(scope="module")
def workshop(tmp_path_factory):
    """Run the whole workshop once; return its folders and the logs of every step."""
    base = tmp_path_factory.mktemp("taller")
    exchange = base / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # the exchange is writable by everyone, as nbgrader requires
    instructor = base / "profesora"
    course = instructor / COURSE
    course.mkdir(parents=True)
    # the instructor's course is a copy of this repository's course: its config and a theme
    shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / THEME, course / "solutions" / THEME)
    homes = {s: base / s for s in WORK}
    for home in homes.values():
        home.mkdir()

    def teach(*args):
        return _run(course, list(args), exchange)

    logs = {}
    # the students exist for nbgrader once autograde meets their submissions (create_student)
    logs["generate"] = teach("generate_assignment", THEME)
    logs["release"] = teach("release_assignment", THEME)

    def student_session(student: str) -> str:
        home = homes[student]
        log = _run(home, ["fetch_assignment", THEME], exchange, student)
        _work(home / THEME / f"{THEME}.ipynb", WORK[student])
        return log + _run(home, ["submit", THEME], exchange, student)

    # the students work at the same time, as in a class: concurrent fetches and submissions
    with ThreadPoolExecutor(len(WORK)) as pool:
        logs.update(zip((f"alumno-{s}" for s in WORK), pool.map(student_session, WORK)))
    logs["collect"] = teach("collect", THEME, "--CollectApp.check_owner=False")
    logs["autograde"] = teach("autograde", THEME)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # grading by hand
        grade = gb.find_grade(MANUAL_ID, THEME, THEME, "ana")
        grade.manual_score = MANUAL_SCORE
        gb.db.commit()
    logs["generate_feedback"] = teach("generate_feedback", THEME)
    logs["release_feedback"] = teach("release_feedback", THEME)
    with ThreadPoolExecutor(len(WORK)) as pool:
        logs.update(zip((f"fetch_feedback-{s}" for s in WORK), pool.map(
            lambda s: _run(homes[s], ["fetch_feedback", THEME], exchange, s), WORK)))
    return {"course": course, "exchange": exchange, "homes": homes, "logs": logs}


def test_every_student_fetched_the_released_theme(workshop):
    released = nbformat.read(ROOT / "exercises" / THEME / f"{THEME}.ipynb", as_version=4)
    for student, home in workshop["homes"].items():
        assert (home / THEME / f"{THEME}.ipynb").is_file(), f"{student} no tiene la tarea"
    # what was released is the course's own release, not the solution
    outbound = workshop["exchange"] / COURSE / "outbound" / THEME / f"{THEME}.ipynb"
    ours = nbformat.read(outbound, as_version=4)
    assert [c.source for c in ours.cells] == [c.source for c in released.cells]
    assert "BEGIN SOLUTION" not in outbound.read_text(encoding="utf-8")


def test_collect_found_one_submission_per_student(workshop):
    submitted = workshop["course"] / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == sorted(WORK)
    inbound = workshop["exchange"] / COURSE / "inbound"
    owners = sorted(p.name.split("+")[0] for p in inbound.iterdir())
    assert owners == sorted(WORK), f"entregas en el intercambio: {owners}"


def test_gradebook_holds_the_expected_grades(workshop):
    points = _points(THEME)
    auto_max = sum(v for k, v in points.items() if k.endswith("-tests"))
    partial = sum(points[f"{gid}-tests"] for gid in PARTIAL)
    expected = {"ana": auto_max + MANUAL_SCORE, "bruno": partial, "carla": 0.0}
    with Gradebook(f"sqlite:///{workshop['course'] / 'gradebook.db'}") as gb:
        got = {s: gb.find_submission(THEME, s).score for s in WORK}
        max_score = gb.find_assignment(THEME).max_score
        failed = {s: [g.name for g in gb.find_submission_notebook(THEME, THEME, s).grades
                      if g.name.endswith("-tests") and g.score != g.max_score]
                  for s in WORK}
    assert max_score == sum(points.values())
    assert got == expected, f"notas {got}, esperadas {expected}; celdas sin nota completa {failed}"
    assert failed["ana"] == []
    assert sorted(failed["bruno"]) == sorted(
        gid for gid in points if gid.endswith("-tests") and gid.removesuffix("-tests") not in PARTIAL)


def test_each_student_fetched_only_their_own_feedback(workshop):
    with Gradebook(f"sqlite:///{workshop['course'] / 'gradebook.db'}") as gb:
        scores = {s: gb.find_submission(THEME, s).score for s in WORK}
        max_score = gb.find_assignment(THEME).max_score
    for student, home in workshop["homes"].items():
        pages = list((home / THEME / "feedback").glob(f"*/{THEME}.html"))
        assert len(pages) == 1, f"{student}: retroalimentación {pages}"
        html = pages[0].read_text(encoding="utf-8")
        # the page's header states this student's total out of the assignment's maximum
        header = f"{THEME} (Score: {round(scores[student], 2)} / {round(float(max_score), 2)})"
        assert header in html, f"{student}: falta «{header}» en su retroalimentación"
    # nobody but the instructor holds the solution or the gradebook
    for home in workshop["homes"].values():
        leaked = [p for p in home.rglob("*") if p.name == "gradebook.db" or "BEGIN SOLUTION" in
                  (p.read_text(encoding="utf-8", errors="ignore") if p.suffix == ".ipynb" else "")]
        assert not leaked, f"ficheros del profesor en la carpeta de un alumno: {leaked}"
