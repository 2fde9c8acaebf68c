"""Autograde one notebook against a theme's instructor version, in a throw-away course.

Scores are read from nbgrader's gradebook, never from exit codes (``nbgrader validate``
exits 0 even when tests fail). The notebook given is copied, never modified.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[2]
STUDENT = "alumna"


class GradingError(RuntimeError):
    """nbgrader could not grade the notebook; the message says why and what to check."""


@dataclass
class CellGrade:
    grade_id: str
    points: float | None     # None: an answer still waiting for an instructor's grade
    max_points: float
    auto: bool               # graded by tests (True) or by hand (False)
    message: str = ""        # the failing test's feedback (hidden tests' code is not shown)


@dataclass
class GradeReport:
    theme: str
    cells: list[CellGrade] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""

    @property
    def auto_score(self) -> float:
        return sum(c.points or 0 for c in self.cells if c.auto)

    @property
    def auto_max(self) -> float:
        return sum(c.max_points for c in self.cells if c.auto)

    @property
    def manual_max(self) -> float:
        return sum(c.max_points for c in self.cells if not c.auto)


def run_nbgrader(args: list[str], cwd: Path, timeout: float = 900) -> str:
    """Run an nbgrader command of this environment with ``cwd`` as course root; its log."""
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={cwd}"]
    # nbgrader runs `alembic` from PATH: make this environment's bin/ visible to it.
    # Warnings are silenced for the graded kernels too: stderr in a test cell scores it 0.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "PATH": path, "PYTHONWARNINGS": "ignore"})
    except subprocess.TimeoutExpired as exc:
        raise GradingError(f"nbgrader {args[0]} tardó más de {timeout:.0f} s y se detuvo.") from exc
    log = done.stdout + done.stderr
    if done.returncode != 0:
        raise GradingError(f"nbgrader {args[0]} falló (código {done.returncode}):\n{log[-3000:]}")
    return log


def _messages(autograded: Path) -> dict[str, str]:
    """The error each graded cell ended with: the Feedback text, or the exception's name."""
    if not autograded.is_file():
        return {}
    found = {}
    for cell in nbformat.read(autograded, as_version=4).cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        for out in cell.get("outputs", []):
            if gid and out.get("output_type") == "error":
                # our Feedback already reads as a sentence; other errors keep their name
                found[gid] = out["evalue"] if out["ename"] == "Feedback" else \
                    f"{out['ename']}: {out['evalue']}"
    return found


def grade(theme: str, submissions: dict[str, str | os.PathLike], *,
          source: str | os.PathLike | None = None, timeout: float = 900) -> dict[str, GradeReport]:
    """Grade several notebooks of one theme in one throw-away course: ``{student: notebook}``.

    ``source`` is the folder holding the instructor's theme folders (``solutions/`` by
    default). ``timeout`` bounds each nbgrader command; the per-cell timeout that stops a
    learner's infinite loop comes from the course's ``nbgrader_config.py``.
    """
    source = Path(source) if source is not None else ROOT / "solutions"
    if not isinstance(theme, str) or not (source / theme / f"{theme}.ipynb").is_file():
        known = sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
        raise GradingError(f"Tema desconocido: {theme!r}. Los temas son: {', '.join(known)}.")
    if not isinstance(submissions, dict) or not submissions:
        raise GradingError("`submissions` debe ser un dict no vacío {alumno: cuaderno}.")
    for student, notebook in submissions.items():
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(student)):
            raise GradingError(f"Nombre de alumno no válido: {student!r} (letras, números, . _ -).")
        if not Path(notebook).is_file() or Path(notebook).suffix != ".ipynb":
            raise GradingError(f"No encuentro el cuaderno {notebook} (debe ser un fichero .ipynb).")
    started = time.perf_counter()
    reports = {}
    with tempfile.TemporaryDirectory(prefix="curso-mlops-grade-") as tmp:
        course = Path(tmp)
        shutil.copy2(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
        shutil.copytree(source / theme, course / "source" / theme,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for student, notebook in submissions.items():
            folder = course / "submitted" / student / theme
            folder.mkdir(parents=True)
            shutil.copy2(notebook, folder / f"{theme}.ipynb")  # a copy: the original is never touched
        db = f"sqlite:///{course / 'gradebook.db'}"
        common = ["--CourseDirectory.source_directory=source",
                  "--CourseDirectory.release_directory=release", f"--CourseDirectory.db_url={db}"]
        log = run_nbgrader(["generate_assignment", theme, "--force", *common], course, timeout)
        log += run_nbgrader(["autograde", theme, "--force", *common], course, timeout)
        with Gradebook(db) as gb:
            for student in submissions:
                messages = _messages(course / "autograded" / student / theme / f"{theme}.ipynb")
                sub = gb.find_submission_notebook(theme, theme, student)
                answers = {c.name for c in sub.notebook.solution_cells}
                report = GradeReport(theme=theme, log=log)
                for g in sorted(sub.grades, key=lambda g: g.name):
                    scored = g.manual_score if g.manual_score is not None else g.auto_score
                    # a test cell is graded by the autograder; an answer cell, by hand
                    report.cells.append(CellGrade(grade_id=g.name, points=scored,
                                                  max_points=g.max_score, auto=g.name not in answers,
                                                  message=messages.get(g.name, "")))
                reports[student] = report
    elapsed = time.perf_counter() - started
    for report in reports.values():
        report.seconds = elapsed
    return reports


def autograde(notebook: str | os.PathLike, theme: str, **kwargs) -> GradeReport:
    """Grade one notebook as a submission of ``theme`` (hidden tests included)."""
    return grade(theme, {STUDENT: notebook}, **kwargs)[STUDENT]

