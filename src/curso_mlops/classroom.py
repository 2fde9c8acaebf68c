"""Grade a class: many submissions of one theme, in parallel and safely, into nbgrader's gradebook.

Why this design. Stock ``nbgrader autograde`` grades students one after another in one
process, and one bad notebook (a kernel that hangs, dies or eats the machine's memory) can
stop the class. Here every submission is a *job*, self-contained (the notebook's bytes, the
instructor's theme folder, the course's nbgrader configuration), graded by a *worker* process
in a throw-away course of its own (own gradebook) with stock nbgrader (``NbGraderAPI``):

- workers are long-lived (nbgrader takes ~2.5 s to import) and run side by side, one per core;
- each worker runs under a memory bound (``RLIMIT_AS``, inherited by its kernels), each cell
  under nbgrader's per-cell timeout, and each notebook under a deadline after which the
  worker, its kernel and everything they started are killed and a fresh worker takes over;
- only the parent process writes the instructor's gradebook, one result at a time (no
  concurrent SQLite writers), as stock autograde would: scores and comments, never the
  instructor's manual grades;
- a job is plain data, so the same jobs run on an existing Dask cluster (``Client(address)``),
  each in a one-shot worker process on the Dask worker's machine.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import itertools
import json
import os
import queue
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
CONFIG_FILE = ROOT / "nbgrader_config.py"

CELL_TIMEOUT = 120          # s per cell (nbgrader's Execute.timeout), as in nbgrader_config.py
NOTEBOOK_TIMEOUT = 900      # s per notebook, enforced by killing the worker
MEMORY_MIB = 4096           # address space of a worker and its kernels
MAX_OUTPUT_CHARS = 200_000  # stream output kept per cell while executing
GRADABLE, UNGRADABLE = "calificado", "no calificable"
TOKEN_ENV = "CURSO_MLOPS_TRABAJO"
STARTUP_ALLOWANCE = 300     # s for a worker to import nbgrader and generate the theme once
STUDENT_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


class ClassroomError(RuntimeError):
    """The class cannot be graded as asked (bad folder, unknown theme…); the message says why."""


# ---------------------------------------------------------------------------- submissions


@dataclass
class Submission:
    student: str
    path: Path | None          # None: nothing to grade (see ``problem``)
    note: str = ""             # e.g. the notebook was renamed
    problem: str = ""          # why it cannot be graded, in Spanish
    timestamp: str | None = None


def find_submissions(folder: str | os.PathLike, theme: str,
                     pattern: str | None = None) -> list[Submission]:
    """Submissions in ``folder``: nbgrader's ``submitted/`` layout or loose files.

    - ``<alumno>/<tema>/<tema>.ipynb`` (``submitted/``; a ``timestamp.txt`` is kept); if the
      notebook was renamed and the folder holds exactly one other notebook, that one is graded.
    - loose files, as ``nbgrader zip_collect`` extracts them: ``<alumno>.ipynb`` or
      ``<alumno>_<lo-que-sea>.ipynb``; ``pattern`` is a regular expression with a group
      ``(?P<alumno>…)`` (or nbgrader's ``student_id``) to read the student from the file name.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ClassroomError(f"No encuentro la carpeta de entregas {folder}.")
    if (folder / "submitted").is_dir():  # the course folder itself
        folder = folder / "submitted"
    found: dict[str, Submission] = {}
    nested = sorted(p for p in folder.iterdir() if p.is_dir() and (p / theme).is_dir())
    for student_dir in nested:
        student, where = student_dir.name, student_dir / theme
        expected = where / f"{theme}.ipynb"
        stamp = where / "timestamp.txt"
        timestamp = stamp.read_text().strip() if stamp.is_file() else None
        if expected.is_file():
            found[student] = Submission(student, expected, timestamp=timestamp)
            continue
        others = sorted(p for p in where.glob("*.ipynb") if p.is_file())
        if len(others) == 1:
            found[student] = Submission(student, others[0], timestamp=timestamp,
                                        note=f"cuaderno renombrado a {others[0].name}")
        else:
            why = "no hay ningún cuaderno" if not others else \
                f"hay {len(others)} cuadernos y ninguno se llama {theme}.ipynb"
            found[student] = Submission(student, None, problem=f"falta {theme}.ipynb: {why}",
                                        timestamp=timestamp)
    regex = re.compile(pattern) if pattern else None
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".ipynb"):
        if regex:
            m = regex.search(path.name)
            groups = m.groupdict() if m else {}
            student = groups.get("alumno") or groups.get("student_id")
            if not student:
                raise ClassroomError(f"El patrón {pattern!r} no reconoce al alumno en {path.name}.")
        else:
            student = path.stem.split("_", 1)[0]
        if student in found:  # which one counts is the instructor's call, not a guess
            found[student] = Submission(student, None, problem=f"hay más de una entrega "
                                        f"({found[student].path.name if found[student].path else '…'}"
                                        f", {path.name}): deja solo una")
            continue
        found[student] = Submission(student, path)
    if not found:
        raise ClassroomError(
            f"{folder} no tiene entregas de {theme}: espero <alumno>/{theme}/{theme}.ipynb "
            "(submitted/ de nbgrader) o ficheros sueltos <alumno>.ipynb.")
    for sub in found.values():  # one odd name is that submission's problem, not the class's
        if not STUDENT_ID.match(sub.student):
            sub.path, sub.problem = None, (f"nombre de alumno no válido: {sub.student!r} "
                                           "(solo letras, números, . _ -)")
    return [found[s] for s in sorted(found)]


# ---------------------------------------------------------------------------- jobs


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def theme_files(theme: str, source: Path) -> dict[str, str]:
    """The instructor's theme folder as ``{relative path: base64}``, for self-contained jobs."""
    folder = Path(source) / theme
    if not (folder / f"{theme}.ipynb").is_file():
        known = sorted(p.name for p in Path(source).iterdir() if p.is_dir()) \
            if Path(source).is_dir() else []
        raise ClassroomError(f"Tema desconocido: {theme!r}. Los temas son: {', '.join(known)}.")
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not {".ipynb_checkpoints", "__pycache__"} & set(path.parts):
            files[str(path.relative_to(folder))] = _b64(path.read_bytes())
    return files


@dataclass
class Limits:
    cell_timeout: float = CELL_TIMEOUT
    notebook_timeout: float = NOTEBOOK_TIMEOUT
    memory_mib: int = MEMORY_MIB
    max_output_chars: int = MAX_OUTPUT_CHARS


def make_job(theme: str, sub: Submission, files: dict[str, str], limits: Limits,
             feedback: bool = True, config_text: str | None = None) -> dict:
    data = sub.path.read_bytes() if sub.path is not None else b""
    return {"theme": theme, "student": sub.student, "notebook": _b64(data),
            "timestamp": sub.timestamp, "source": files, "feedback": feedback,
            "config": config_text if config_text is not None else CONFIG_FILE.read_text(),
            "cell_timeout": limits.cell_timeout, "max_output_chars": limits.max_output_chars,
            "notebook_timeout": limits.notebook_timeout, "memory_mib": limits.memory_mib}


# ---------------------------------------------------------------------------- worker side

_TEMPLATES: dict[str, Path] = {}  # per worker: theme + source hash → generated course


def _template(job: dict, base: Path):
    """A course where the theme is generated once per worker: its gradebook is copied per job."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    key = hashlib.sha256(json.dumps([job["theme"], job["source"], job["config"]],
                                    sort_keys=True).encode()).hexdigest()[:16]
    if key in _TEMPLATES and (_TEMPLATES[key] / "gradebook.db").is_file():
        return _TEMPLATES[key]
    course = base / f"plantilla-{key}"
    shutil.rmtree(course, ignore_errors=True)
    for rel, data in job["source"].items():
        target = course / "source" / job["theme"] / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
    config = _config(job, course)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    done = api.generate_assignment(job["theme"], force=True, create=True)
    if not done["success"]:
        raise RuntimeError("nbgrader no pudo generar la tarea:\n" + done["log"][-2000:])
    _TEMPLATES[key] = course
    return course


def _config(job: dict, course: Path):
    """The course's nbgrader configuration, pointed at ``course`` and with this job's limits."""
    from traitlets.config.loader import PyFileConfigLoader

    (course / "nbgrader_config.py").write_text(job["config"])
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "release"
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.Execute.timeout = max(1, round(float(job["cell_timeout"])))
    config.Execute.interrupt_on_timeout = True
    config.LimitedExecute.max_output_chars = int(job["max_output_chars"])
    config.OverwriteCells.add_missing_cells = True
    from nbgrader.converters.autograde import Autograde
    config.Autograde.autograde_preprocessors = [
        _limited_execute() if pp.__name__ == "Execute" else pp
        for pp in Autograde.class_traits()["autograde_preprocessors"].default()]
    # stock feedback shows the hidden tests' code and tracebacks (nbgrader#917): hide them
    config.GenerateFeedback.preprocessors = [
        "nbgrader.preprocessors.GetGrades", "curso_mlops.classroom.HideHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]
    return config


_CLASSES: dict = {}


def _limited_execute():
    if "LimitedExecute" in _CLASSES:
        return _CLASSES["LimitedExecute"]
    from nbgrader.preprocessors import Execute
    from traitlets import Integer

    class LimitedExecute(Execute):
        """nbgrader's Execute that stops keeping stream output past a budget per cell.

        nbgrader's LimitOutput trims lines only after the cell ran, so a notebook printing
        megabytes (or a single endless line) would first fill the worker's memory.
        """

        max_output_chars = Integer(MAX_OUTPUT_CHARS).tag(config=True)

        def output(self, outs, msg, display_id, cell_index):
            if msg["msg_type"] == "display_data":  # a huge image or HTML: a note instead
                size = len(json.dumps(msg["content"].get("data", {})))
                if size > self.max_output_chars:
                    msg = {**msg, "content": {**msg["content"], "metadata": {}, "data": {
                        "text/plain": f"… salida de {size} caracteres omitida …"}}}
                return super().output(outs, msg, display_id, cell_index)
            if msg["msg_type"] != "stream":  # errors and results (partial credit) as they are
                return super().output(outs, msg, display_id, cell_index)
            kept = sum(len(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
            text = msg["content"].get("text", "")
            if kept + len(text) <= self.max_output_chars:
                return super().output(outs, msg, display_id, cell_index)
            name = msg["content"].get("name", "stdout")
            has_name = any(o.get("name") == name for o in outs if o.get("output_type") == "stream")
            if kept < self.max_output_chars or not has_name:
                # keep what fits (and always one piece per stream: stderr scores a test cell 0)
                room = max(self.max_output_chars - kept, 200)
                msg = {**msg, "content": {**msg["content"],
                                          "text": text[:room] + "\n… salida truncada …\n"}}
                return super().output(outs, msg, display_id, cell_index)
            return None

    _CLASSES["LimitedExecute"] = LimitedExecute
    return LimitedExecute


def _hide_hidden_tests():
    if "HideHiddenTests" in _CLASSES:
        return _CLASSES["HideHiddenTests"]
    from nbgrader.preprocessors import NbGraderPreprocessor  # enabled by default, unlike nbconvert's

    class HideHiddenTests(NbGraderPreprocessor):
        """Feedback without the hidden tests: their code, and tracebacks that quote it."""

        def preprocess_cell(self, cell, resources, index):
            if cell.cell_type == "code" and "BEGIN HIDDEN TESTS" in cell.source:
                cell.source = re.sub(r"[ \t]*#+ BEGIN HIDDEN TESTS.*?END HIDDEN TESTS[^\n]*",
                                     "# (pruebas ocultas)", cell.source, flags=re.S)
                for out in cell.get("outputs", []):
                    if out.get("output_type") == "error":
                        out["traceback"] = [f"{out['ename']}: {out['evalue']}"]
            return cell, resources

    _CLASSES["HideHiddenTests"] = HideHiddenTests
    return HideHiddenTests


def __getattr__(name):  # the preprocessors import nbgrader: only where a worker needs them
    if name == "LimitedExecute":
        return _limited_execute()
    if name == "HideHiddenTests":
        return _hide_hidden_tests()
    raise AttributeError(name)


def _read_notebook(data: bytes):
    """The submission as a current notebook, or the reason it cannot be graded."""
    import nbformat
    from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError

    try:
        text = data.decode("utf-8")
        json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        return None, f"no es un cuaderno: el fichero no es JSON válido ({type(exc).__name__})"
    try:
        nb = nbformat.reads(text, as_version=4)  # an older nbformat is converted
        nbformat.validate(nb)
    except Exception as exc:  # noqa: BLE001 (any reader error means: not a notebook)
        return None, f"no es un cuaderno válido de Jupyter ({str(exc).splitlines()[0][:200]})"
    try:
        validator = MetadataValidator()
        nb = validator.upgrade_notebook_metadata(nb)  # an older nbgrader's metadata
        validator.validate_nb(nb)
    except SchemaTooNewError:
        return None, "lo guardó un nbgrader más nuevo que el del curso: actualiza nbgrader"
    except Exception as exc:  # noqa: BLE001
        return None, f"metadatos de nbgrader dañados ({str(exc).splitlines()[0][:200]})"
    return nb, ""


def grade_job(job: dict, base: Path) -> dict:
    """Grade one job in a throw-away course under ``base``; a plain, JSON-able result."""
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from .grading import _messages

    started = time.perf_counter()
    theme, student = job["theme"], job["student"]
    result = {"student": student, "theme": theme, "status": UNGRADABLE, "reason": "",
              "grades": [], "comments": [], "penalty": {}, "messages": {},
              "autograded": "", "feedback": "", "seconds": 0.0, "log": ""}
    nb, problem = _read_notebook(base64.b64decode(job["notebook"]))
    if nb is None:
        result["reason"] = problem
        return result
    template = _template(job, base)
    if job.get("started_marker"):  # the notebook deadline starts now, not at worker start-up
        Path(job["started_marker"]).touch()
    course = base / f"curso-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(template, course, ignore=shutil.ignore_patterns("release"))
        where = course / "submitted" / student / theme
        where.mkdir(parents=True)
        nbformat.write(nb, where / f"{theme}.ipynb")
        if job.get("timestamp"):
            (where / "timestamp.txt").write_text(job["timestamp"])
        config = _config(job, course)
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        done = api.autograde(theme, student, force=True, create=True)
        result["log"] = done["log"][-4000:]
        graded = course / "autograded" / student / theme / f"{theme}.ipynb"
        if not done["success"] or not graded.is_file():
            log = done["log"]
            if "DeadKernelError" in log or "Kernel died" in log or "kernel died" in log:
                result["reason"] = ("el núcleo de Python murió durante la ejecución "
                                    "(¿os._exit, un fallo de C o falta de memoria?)")
            elif ("UnresponsiveKernel" in log or "became unresponsive" in log
                  or "CellTimeoutError" in log):
                result["reason"] = (f"una celda superó el límite de {job['cell_timeout']:g} s "
                                    "por celda y no se dejó interrumpir")
            else:
                last = [ln for ln in log.splitlines() if "[ERROR]" in ln or "Error" in ln]
                result["reason"] = "nbgrader no pudo corregirlo: " + (last[-1][:300] if last else "sin detalle")
            return result
        with Gradebook(config.CourseDirectory.db_url) as gb:
            sub = gb.find_submission(theme, student)
            for nb_sub in sub.notebooks:
                answers = {c.name for c in nb_sub.notebook.solution_cells}
                result["penalty"][nb_sub.name] = nb_sub.late_submission_penalty
                for g in nb_sub.grades:
                    result["grades"].append({
                        "notebook": nb_sub.name, "name": g.name, "auto_score": g.auto_score,
                        "needs_manual_grade": bool(g.needs_manual_grade),
                        "max_score": g.max_score, "auto": g.name not in answers})
                for c in nb_sub.comments:
                    result["comments"].append({"notebook": nb_sub.name, "name": c.name,
                                               "auto_comment": c.auto_comment})
        result["messages"] = _messages(graded)
        result["autograded"] = _b64(graded.read_bytes())
        if job.get("feedback", True):
            made = api.generate_feedback(theme, student, force=True)
            html = course / "feedback" / student / theme / f"{theme}.html"
            if made["success"] and html.is_file():
                result["feedback"] = _b64(html.read_bytes())
        result["status"] = GRADABLE
        return result
    finally:
        result["seconds"] = time.perf_counter() - started
        shutil.rmtree(course, ignore_errors=True)


def worker_main(argv: list[str]) -> int:
    """A worker: reads job file paths on stdin; writes ``<job>.resultado`` for each.

    Results go to files, not stdout: the kernels it starts share its stdout.
    """
    memory_mib = int(argv[0]) if argv else MEMORY_MIB
    base = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="curso-mlops-trabajador-"))
    base.mkdir(parents=True, exist_ok=True)  # the parent removes it too, should we be killed
    if memory_mib > 0:
        limit = memory_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.setdefault("PYTHONWARNINGS", "ignore")  # stderr in a test cell scores it 0
    bin_dir = str(Path(sys.executable).parent)       # nbgrader runs `alembic` from PATH
    os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
    try:
        for line in sys.stdin:
            job_file = Path(line.strip())
            if not line.strip():
                continue
            try:
                job = json.loads(job_file.read_text())
                result = grade_job(job, base)
            except MemoryError:
                result = {"status": UNGRADABLE, "reason": "el corrector se quedó sin memoria"}
            except Exception as exc:  # noqa: BLE001 (a job never takes the worker down)
                result = {"status": UNGRADABLE,
                          "reason": f"error al corregir: {type(exc).__name__}: {str(exc)[:300]}"}
            tmp = job_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(result))
            tmp.rename(job_file.with_suffix(".resultado"))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


# ---------------------------------------------------------------------------- parent side


def _kill_tree(pid: int, token: str) -> None:
    """Kill a worker, its kernels (in sessions of their own) and whatever they started."""
    import psutil

    victims = set()
    try:
        victims.update(p.pid for p in psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        pass
    victims.add(pid)
    for proc in psutil.process_iter():  # orphans that left the tree but kept our token
        try:
            if proc.environ().get(TOKEN_ENV) == token:
                victims.add(proc.pid)
        except psutil.Error:
            continue
    own = os.getpgid(0)
    for victim in victims:
        try:
            group = os.getpgid(victim)
            if group != own:
                os.killpg(group, signal.SIGKILL)
            os.kill(victim, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


class Worker:
    """One worker process; ``run`` grades one job within its notebook deadline."""

    def __init__(self, memory_mib: int, folder: Path, own_folder: bool = False):
        self.memory_mib, self.folder, self.own_folder = memory_mib, folder, own_folder
        self.proc: subprocess.Popen | None = None
        self.token = ""

    def _start(self) -> None:
        self.token = uuid.uuid4().hex
        # one BLAS/OpenMP thread per kernel: the parallelism is one notebook per core, and two
        # kernels with two threads each on two cores run several times slower (CONTRIBUTING)
        threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        env = {**threads, **os.environ, TOKEN_ENV: self.token, "PYTHONWARNINGS": "ignore"}
        self.log = open(self.folder / f"trabajador-{self.token[:8]}.log", "wb")
        self.base = self.folder / f"trabajador-{self.token[:8]}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "curso_mlops.classroom", "--trabajador", str(self.memory_mib),
             str(self.base)],
            stdin=subprocess.PIPE, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True, env=env, cwd=self.folder)

    def run(self, job: dict) -> dict:
        if self.proc is not None and self.proc.poll() is not None:
            self.close(kill=True)  # it died between jobs: clear what it left
        if self.proc is None:
            self._start()
        job_file = self.folder / f"{job['student']}-{uuid.uuid4().hex[:8]}.trabajo"
        answer = job_file.with_suffix(".resultado")
        started = job_file.with_suffix(".empezado")
        job = {**job, "started_marker": str(started)}
        job_file.write_text(json.dumps(job))
        limit = float(job["notebook_timeout"])
        deadline = time.monotonic() + limit + STARTUP_ALLOWANCE
        counting = False
        try:
            self.proc.stdin.write(f"{job_file}\n".encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass
        try:
            while not answer.exists():
                if not counting and started.exists():
                    counting, deadline = True, time.monotonic() + limit
                if self.proc.poll() is not None:
                    code = self.proc.returncode
                    self.close(kill=True)
                    return {"status": UNGRADABLE, "reason": "el proceso corrector terminó de "
                            f"forma inesperada (código {code}); ¿falta de memoria?"}
                if time.monotonic() > deadline:
                    self.close(kill=True)
                    return {"status": UNGRADABLE, "reason": "superó el límite de "
                            f"{float(job['notebook_timeout']):g} s por cuaderno y se detuvo"}
                time.sleep(0.05)
            return json.loads(answer.read_text())
        finally:
            for leftover in (job_file, answer, started):
                leftover.unlink(missing_ok=True)

    def close(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if kill or self.proc.poll() is not None:
            _kill_tree(self.proc.pid, self.token)
        else:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (subprocess.TimeoutExpired, OSError):
                pass
            _kill_tree(self.proc.pid, self.token)
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)
        Path(self.log.name).unlink(missing_ok=True)
        self.proc = None

    def shutdown(self) -> None:
        """Close for good, and remove the folder if this worker made it."""
        self.close()
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


_LOCAL = threading.local()


def run_on_dask(job: dict) -> dict:
    """What a Dask task runs: the job on this thread's worker process, kept between tasks.

    The worker process outlives the task (nbgrader is imported once per Dask thread, not per
    submission); it ends with the Dask worker, whose pipe to it closes.
    """
    worker = getattr(_LOCAL, "worker", None)
    if worker is None or worker.memory_mib != int(job["memory_mib"]):
        if worker is not None:
            worker.shutdown()
        worker = _LOCAL.worker = Worker(int(job["memory_mib"]),
                                        Path(tempfile.mkdtemp(prefix="curso-mlops-dask-")),
                                        own_folder=True)
        atexit.register(worker.shutdown)
    try:
        result = worker.run(job)
    except Exception as exc:  # noqa: BLE001
        worker.close(kill=True)
        result = {"status": UNGRADABLE, "reason": f"error del corrector: {exc}"}
    return {**result, "student": job["student"], "theme": job["theme"]}


def run_local(jobs: list[dict], workers: int, memory_mib: int) -> Iterator[dict]:
    """Grade jobs on ``workers`` long-lived worker processes; yield results as they finish."""
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    done: queue.Queue = queue.Queue()

    def serve(folder: Path) -> None:
        worker = Worker(memory_mib, folder)
        try:
            while True:
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    result = worker.run(job)
                except Exception as exc:  # noqa: BLE001
                    worker.close(kill=True)
                    result = {"status": UNGRADABLE, "reason": f"error del corrector: {exc}"}
                done.put({**result, "student": job["student"], "theme": job["theme"]})
        finally:
            worker.close()
            done.put(None)

    with tempfile.TemporaryDirectory(prefix="curso-mlops-clase-") as tmp:
        n = max(1, min(workers, len(jobs)))
        threads = [threading.Thread(target=serve, args=(Path(tmp),), daemon=True) for _ in range(n)]
        for t in threads:
            t.start()
        finished = 0
        while finished < n:
            item = done.get()
            if item is None:
                finished += 1
            else:
                yield item
        for t in threads:
            t.join()


def run_dask(jobs: list[dict], address: str, connect_timeout: str = "10s") -> Iterator[dict]:
    """The same jobs on an existing Dask cluster, each in a worker process on its machine."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover
        raise ClassroomError("Falta dask.distributed: pip install 'dask[distributed]'.") from exc
    try:
        client = Client(address, timeout=connect_timeout)
    except (OSError, TimeoutError) as exc:
        raise ClassroomError(f"No puedo conectar con el planificador de Dask en {address}: {exc}") from exc
    with client:
        futures = [client.submit(run_on_dask, job, pure=False, key=f"corregir-{job['student']}-{uuid.uuid4().hex[:6]}")
                   for job in jobs]
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # noqa: BLE001 (a lost Dask worker is one student's problem)
                job = jobs[futures.index(future)]
                yield {"status": UNGRADABLE, "student": job["student"], "theme": job["theme"],
                       "reason": f"el trabajador de Dask falló: {type(exc).__name__}: {exc}"}


# ---------------------------------------------------------------------------- the gradebook


def ensure_course(course: Path) -> None:
    """A course folder with the course's nbgrader configuration (copied if it has none)."""
    course.mkdir(parents=True, exist_ok=True)
    if not (course / "nbgrader_config.py").is_file():
        shutil.copy2(CONFIG_FILE, course / "nbgrader_config.py")


def prepare_course(theme: str, course: Path, source: Path) -> None:
    """Create or update the theme in the instructor's gradebook (release goes to a temp dir)."""
    from .grading import GradingError, run_nbgrader

    ensure_course(course)
    with tempfile.TemporaryDirectory(prefix="curso-mlops-release-") as tmp:
        try:
            run_nbgrader(["generate_assignment", theme, "--force", "--create",
                          f"--CourseDirectory.source_directory={source.resolve()}",
                          f"--CourseDirectory.release_directory={tmp}",
                          f"--CourseDirectory.db_url=sqlite:///{course.resolve() / 'gradebook.db'}"],
                         course.resolve())
        except GradingError as exc:
            raise ClassroomError(f"No pude preparar {theme} en el gradebook de {course}: {exc}") from exc


def record(result: dict, course: Path) -> None:
    """Write one worker's result into the instructor's course, as stock autograde would.

    Scores and automatic comments are set; manual grades an instructor entered are kept.
    An ungradable submission leaves no stale grade or feedback behind.
    """
    from nbgrader.api import Gradebook, MissingEntry

    theme, student = result["theme"], result["student"]
    if not STUDENT_ID.match(student):  # never a path or a gradebook row from an odd name
        return
    db = f"sqlite:///{course.resolve() / 'gradebook.db'}"
    graded_dir = course / "autograded" / student / theme
    feedback_dir = course / "feedback" / student / theme
    for stale in (graded_dir, feedback_dir):
        shutil.rmtree(stale, ignore_errors=True)
    with Gradebook(db) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes from nbgrader's own code
        if result["status"] != GRADABLE:
            try:
                gb.remove_submission(theme, student)
            except MissingEntry:
                pass
            return
        gb.update_or_create_student(student)
        from nbgrader.utils import parse_utc
        stamp = result.get("timestamp")
        if stamp:
            gb.update_or_create_submission(theme, student, timestamp=parse_utc(stamp))
        else:
            gb.update_or_create_submission(theme, student)
        for g in result["grades"]:
            grade = gb.find_grade(g["name"], g["notebook"], theme, student)
            grade.auto_score = g["auto_score"]
            grade.needs_manual_grade = g["needs_manual_grade"]
        for c in result["comments"]:
            comment = gb.find_comment(c["name"], c["notebook"], theme, student)
            comment.auto_comment = c["auto_comment"]
        for nb in gb.find_submission(theme, student).notebooks:
            if result.get("penalty", {}).get(nb.name):  # nbgrader's default plugin adds none
                nb.late_submission_penalty = result["penalty"][nb.name]
        gb.db.commit()
    graded_dir.mkdir(parents=True)
    (graded_dir / f"{theme}.ipynb").write_bytes(base64.b64decode(result["autograded"]))
    if result.get("feedback"):
        feedback_dir.mkdir(parents=True)
        (feedback_dir / f"{theme}.html").write_bytes(base64.b64decode(result["feedback"]))


# ---------------------------------------------------------------------------- a class


@dataclass
class StudentResult:
    student: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    reason: str = ""
    note: str = ""
    messages: dict = field(default_factory=dict)


@dataclass
class ClassReport:
    theme: str
    course: Path
    students: list[StudentResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ungradable(self) -> list[StudentResult]:
        return [s for s in self.students if s.status != GRADABLE]

    def write_csv(self, out: Path) -> Path:
        """Every submission of this run, ungradable ones too (the gradebook only has the rest)."""
        import csv

        with open(out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["alumno", "tema", "estado", "nota_automatica", "maximo", "motivo", "nota"])
            for s in self.students:
                writer.writerow([s.student, self.theme, s.status, f"{s.score:g}",
                                 f"{s.max_score:g}", s.reason, s.note])
        return out


def grade_class(theme: str, folder: str | os.PathLike, *, course: str | os.PathLike = ROOT,
                source: str | os.PathLike | None = None, workers: int | None = None,
                scheduler: str | None = None, limits: Limits | None = None,
                feedback: bool = True, pattern: str | None = None,
                on_result: Callable[[StudentResult], None] | None = None) -> ClassReport:
    """Autograde every submission of ``theme`` in ``folder`` into ``course``'s gradebook."""
    started = time.perf_counter()
    course = Path(course)
    source = Path(source) if source is not None else SOLUTIONS
    limits = limits or Limits()
    files = theme_files(theme, source)
    subs = find_submissions(folder, theme, pattern)
    # the instructor's gradebook is prepared while the workers start grading
    prepared: dict = {}

    def prepare() -> None:
        try:
            prepare_course(theme, course, source)
        except ClassroomError as exc:
            prepared["error"] = exc

    preparing = threading.Thread(target=prepare, daemon=True)
    preparing.start()
    report = ClassReport(theme, course)
    by_student = {s.student: s for s in subs}
    results: Iterable[dict] = []
    jobs = []
    for sub in subs:
        if sub.path is None:
            results = [*results, {"status": UNGRADABLE, "student": sub.student, "theme": theme,
                                  "reason": sub.problem}]
        else:
            jobs.append(make_job(theme, sub, files, limits, feedback))
    if jobs:
        workers = workers or os.cpu_count() or 1
        stream = run_dask(jobs, scheduler) if scheduler else run_local(jobs, workers, limits.memory_mib)
    else:
        stream = iter(())
    for result in itertools.chain(results, stream):
        if preparing.is_alive() or prepared:
            preparing.join()
            if "error" in prepared:
                raise prepared["error"]
        sub = by_student[result["student"]]
        result = {**result, "timestamp": sub.timestamp}
        record(result, course)
        auto = [g for g in result.get("grades", []) if g["auto"]]
        line = StudentResult(sub.student, result["status"],
                             score=sum(g["auto_score"] or 0 for g in auto),
                             max_score=sum(g["max_score"] for g in auto),
                             reason=result.get("reason", ""), note=sub.note,
                             messages=result.get("messages", {}))
        report.students.append(line)
        if on_result:
            on_result(line)
    report.students.sort(key=lambda s: s.student)
    report.write_csv(course / f"correccion-{theme}.csv")
    report.seconds = time.perf_counter() - started
    return report


def grade_one(theme: str, notebook: str | os.PathLike, *, source: str | os.PathLike | None = None,
              limits: Limits | None = None):
    """A learner's check: one notebook graded by a worker, under the class's limits.

    Returns a :class:`grading.GradeReport`; an ungradable notebook raises ``GradingError``
    with the reason (a loop that ignores interrupts, a dead kernel, not a notebook…).
    """
    from .grading import CellGrade, GradeReport, GradingError

    notebook = Path(notebook)
    if notebook.suffix != ".ipynb" or not notebook.is_file():
        raise GradingError(f"No encuentro el cuaderno {notebook} (debe ser un fichero .ipynb).")
    try:
        files = theme_files(theme, Path(source) if source is not None else SOLUTIONS)
    except ClassroomError as exc:
        raise GradingError(str(exc)) from exc
    limits = limits or Limits()
    job = make_job(theme, Submission("alumna", notebook), files, limits, feedback=False)
    started = time.perf_counter()
    result = next(run_local([job], 1, limits.memory_mib))
    if result["status"] != GRADABLE:
        raise GradingError(f"No se pudo corregir {notebook}: {result.get('reason', '')}")
    report = GradeReport(theme=theme, log=result.get("log", ""),
                         seconds=time.perf_counter() - started)
    for g in sorted(result["grades"], key=lambda g: g["name"]):
        report.cells.append(CellGrade(grade_id=g["name"], points=g["auto_score"],
                                      max_points=g["max_score"], auto=g["auto"],
                                      message=result["messages"].get(g["name"], "")))
    return report


def export_csv(course: str | os.PathLike, out: str | os.PathLike) -> Path:
    """``nbgrader export`` of the course's gradebook to a CSV file."""
    from .grading import GradingError, run_nbgrader

    course, out = Path(course), Path(out).resolve()
    if not (course / "gradebook.db").is_file():
        raise ClassroomError(f"{course} no tiene gradebook.db: corrige antes una clase (curso corregir).")
    try:
        run_nbgrader(["export", f"--to={out}",
                      f"--CourseDirectory.db_url=sqlite:///{course.resolve() / 'gradebook.db'}"],
                     course.resolve())
    except GradingError as exc:
        raise ClassroomError(f"nbgrader export falló: {exc}") from exc
    return out


# ---------------------------------------------------------------------------- benchmark


def stock_autograde(theme: str, folder: str | os.PathLike, course: str | os.PathLike, *,
                    source: str | os.PathLike | None = None, cell_timeout: float = CELL_TIMEOUT,
                    timeout: float = 7200) -> float:
    """Stock ``nbgrader autograde`` (one student after another) into ``course``; seconds."""
    from .grading import GradingError, run_nbgrader

    source = Path(source) if source is not None else SOLUTIONS
    course = Path(course)
    subs = [s for s in find_submissions(folder, theme) if s.path is not None]
    for sub in subs:
        where = course / "submitted" / sub.student / theme
        where.mkdir(parents=True, exist_ok=True)
        shutil.copy2(sub.path, where / f"{theme}.ipynb")
        if sub.timestamp:
            (where / "timestamp.txt").write_text(sub.timestamp)
    ensure_course(course)
    started = time.perf_counter()
    common = [f"--CourseDirectory.source_directory={source.resolve()}",
              f"--CourseDirectory.db_url=sqlite:///{course.resolve() / 'gradebook.db'}",
              f"--Execute.timeout={int(cell_timeout)}"]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            run_nbgrader(["generate_assignment", theme, "--force",
                          f"--CourseDirectory.release_directory={tmp}", *common],
                         course.resolve(), timeout)
            run_nbgrader(["autograde", theme, "--force", "--create", *common],
                         course.resolve(), timeout)
        except GradingError as exc:
            raise ClassroomError(str(exc)) from exc
    return time.perf_counter() - started


def gradebook_scores(course: str | os.PathLike, theme: str) -> dict[str, dict[str, float | None]]:
    """``{student: {grade_id: auto_score}}`` from a course's gradebook (to compare two runs)."""
    from nbgrader.api import Gradebook

    db = f"sqlite:///{Path(course).resolve() / 'gradebook.db'}"
    scores = {}
    with Gradebook(db) as gb:
        for sub in gb.find_assignment(theme).submissions:
            scores[sub.student.id] = {g.name: g.auto_score for nb in sub.notebooks for g in nb.grades}
    return scores


def make_class(theme: str, folder: Path, size: int, *, source: Path | None = None,
               release: Path | None = None) -> Path:
    """A class of ``size`` submissions in ``submitted/`` layout: solutions, blanks and partials."""
    import nbformat

    source = Path(source) if source is not None else SOLUTIONS
    solution = nbformat.read(source / theme / f"{theme}.ipynb", as_version=4)
    if release is None:
        release = ROOT / "exercises"
    blank = nbformat.read(Path(release) / theme / f"{theme}.ipynb", as_version=4)
    # partial: the solution with every other answer replaced by the blank stub
    partial = nbformat.read(source / theme / f"{theme}.ipynb", as_version=4)
    stubs = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in blank.cells}
    answers = [i for i, c in enumerate(partial.cells)
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    for i in answers[::2]:
        gid = partial.cells[i].metadata["nbgrader"]["grade_id"]
        if gid in stubs:
            partial.cells[i] = stubs[gid]
    kinds = [("solucion", solution), ("en-blanco", blank), ("parcial", partial)]
    for n in range(size):
        kind, nb = kinds[n % len(kinds)]
        where = folder / f"alumno{n + 1:02d}-{kind}" / theme
        where.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, where / f"{theme}.ipynb")
    return folder


def _cpu_seconds() -> float:
    """CPU used by this process and its reaped children (nbgrader, workers, their kernels)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def benchmark(theme: str, size: int = 20, workers: int | None = None,
              keep: Path | None = None, echo: Callable[[str], None] = print, *,
              source: Path | None = None, release: Path | None = None) -> dict:
    """Stock sequential autograde vs. ours, same class, same run; grades must agree.

    Besides wall time it reports the CPU seconds each path used and the machine's load
    average, so a run on a shared, busy machine can be read for what it is.
    """
    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="curso-mlops-benchmark-"))
    try:
        folder = make_class(theme, base / "entregas", size, source=source, release=release)
        load = os.getloadavg()[0]
        echo(f"clase de {size} entregas de {theme}; carga media de la máquina al empezar: "
             f"{load:.2f} en {os.cpu_count()} núcleos")
        echo("nbgrader autograde (de serie, un alumno tras otro)…")
        cpu = _cpu_seconds()
        sequential = stock_autograde(theme, folder, base / "de-serie", source=source)
        cpu_sequential = _cpu_seconds() - cpu
        load_sequential = os.getloadavg()[0]
        echo(f"  {sequential:.1f} s, {cpu_sequential:.0f} s de CPU "
             f"({cpu_sequential / sequential:.2f} núcleos de media); carga media: {load_sequential:.2f}")
        echo(f"curso corregir ({workers or os.cpu_count()} trabajadores)…")
        cpu = _cpu_seconds()
        report = grade_class(theme, folder, course=base / "en-paralelo", workers=workers,
                             feedback=False, source=source)
        cpu_parallel = _cpu_seconds() - cpu
        parallel = report.seconds
        load_parallel = os.getloadavg()[0]
        echo(f"  {parallel:.1f} s, {cpu_parallel:.0f} s de CPU "
             f"({cpu_parallel / parallel:.2f} núcleos de media); carga media: {load_parallel:.2f}")
        same = gradebook_scores(base / "de-serie", theme) == gradebook_scores(base / "en-paralelo", theme)
        ratio = sequential / parallel if parallel else float("inf")
        echo(f"aceleración: {ratio:.2f}x; mismas notas: {'sí' if same else 'NO'}")
        return {"sequential": sequential, "parallel": parallel, "ratio": ratio, "same": same,
                "cpu_sequential": cpu_sequential, "cpu_parallel": cpu_parallel,
                "load_before": load, "load_sequential": load_sequential,
                "load_parallel": load_parallel, "ungradable": len(report.ungradable)}
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--trabajador"]:
        sys.exit(worker_main(sys.argv[2:]))
    print("uso: curso corregir … (este módulo lo usa la línea de órdenes `curso`)")
    sys.exit(2)
