"""The authoring pipeline: solutions/ (written by hand) → executed → exercises/ (generated).

    python -m curso_mlops.authoring ejecutar [TEMA ...]   re-execute solutions and notebooks/
    python -m curso_mlops.authoring publicar [DESTINO]    regenerate exercises/ with nbgrader
    python -m curso_mlops.authoring convertir BORRADOR.py TEMA   jupytext draft → solution
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .grading import GradingError, run_nbgrader

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
THEME_NAME = re.compile(r"^\d\d-[a-z0-9-]+$")
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class AuthoringError(RuntimeError):
    """Something in solutions/ is not the shape the pipeline needs; the message says what."""


def themes(solutions: Path = SOLUTIONS) -> list[str]:
    """Theme folders of solutions/, e.g. ``["01-deriva"]``, each holding ``<folder>.ipynb``."""
    found = []
    for folder in sorted(p for p in Path(solutions).iterdir() if p.is_dir()):
        if folder.name.startswith("."):
            continue
        if not THEME_NAME.match(folder.name):
            raise AuthoringError(f"La carpeta {folder} no se llama NN-tema (p. ej. 01-deriva).")
        if not (folder / f"{folder.name}.ipynb").is_file():
            raise AuthoringError(f"Falta el cuaderno {folder / (folder.name + '.ipynb')}.")
        found.append(folder.name)
    return found


def notebook_path(theme: str, base: Path | None = None) -> Path:
    return Path(base if base is not None else SOLUTIONS) / theme / f"{theme}.ipynb"


def normalize(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what changes from run to run or machine to machine (timings, versions, tools)."""
    # widget state is dropped too: random model ids, and nbgrader would copy it (plots
    # included) into the learners' release
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("lines_to_next_cell", None)
        cell.metadata.pop("ExecuteTime", None)
        cell.pop("id", None)
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def execute(path: Path, timeout: int = 300) -> Path:
    """Execute a notebook in its own folder (as nbval does) and store its outputs."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    write(normalize(nb), path)
    leftovers = sorted(p.name for p in path.parent.iterdir() if p.suffix != ".ipynb"
                       and p.name not in {".ipynb_checkpoints", "__pycache__"})
    if leftovers and path.parent.parent.name == "solutions":
        raise AuthoringError(
            f"Al ejecutarse, {path.name} dejó ficheros en su carpeta: {leftovers}. nbgrader se "
            "los daría a los alumnos: escribe en una carpeta temporal (tempfile).")
    return path


def release(dest: Path = EXERCISES, solutions: Path = SOLUTIONS) -> list[Path]:
    """Regenerate the learners' notebooks with nbgrader: the only way exercises/ is made."""
    dest, solutions = Path(dest).resolve(), Path(solutions).resolve()
    names = themes(solutions)
    dest.mkdir(parents=True, exist_ok=True)
    for stale in dest.iterdir():  # a theme removed from solutions/ leaves exercises/ too
        if stale.is_dir() and stale.name not in names:
            shutil.rmtree(stale)
    written = []
    for theme in names:
        shutil.rmtree(dest / theme, ignore_errors=True)
        try:
            run_nbgrader(["generate_assignment", theme, "--no-db", "--force",
                          f"--CourseDirectory.source_directory={solutions}",
                          f"--CourseDirectory.release_directory={dest}"], ROOT)
        except GradingError as exc:
            raise AuthoringError(f"nbgrader no pudo publicar {theme}: {exc}") from exc
        out = dest / theme / f"{theme}.ipynb"
        if not out.is_file():
            raise AuthoringError(f"nbgrader no escribió {out}.")
        written.append(out)
    return written


def convert(draft: Path, theme: str) -> Path:
    """Turn a jupytext percent draft into ``solutions/<theme>/<theme>.ipynb`` (unexecuted).

    Refuses to replace an existing solution that has outputs, so a draft never silently
    overwrites executed work: move the old one away first if that is what you want.
    """
    import jupytext

    if not THEME_NAME.match(theme):
        raise AuthoringError(f"`theme` debe llamarse NN-tema (p. ej. 01-deriva); recibido {theme!r}.")
    draft = Path(draft)
    if not draft.is_file():
        raise AuthoringError(f"No encuentro el borrador {draft}.")
    target = notebook_path(theme)
    if target.exists():
        old = nbformat.read(target, as_version=4)
        if any(c.get("outputs") for c in old.cells if c.cell_type == "code"):
            raise AuthoringError(
                f"{target} ya existe y está ejecutado; no lo sobrescribo. Muévelo antes si "
                "quieres sustituirlo por el borrador.")
    nb = jupytext.read(draft, fmt="py:percent")
    target.parent.mkdir(parents=True, exist_ok=True)
    write(normalize(nb), target)
    return target


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in {"ejecutar", "publicar", "convertir"}:
        print(__doc__)
        return 2
    verb, rest = args[0], args[1:]
    try:
        if verb == "ejecutar":
            paths = [notebook_path(t) for t in rest] if rest else \
                [notebook_path(t) for t in themes()] + sorted((ROOT / "notebooks").glob("*.ipynb"))
            for path in paths:
                print(f"ejecutando {path.relative_to(ROOT)} …", flush=True)
                execute(path)
        elif verb == "publicar":
            for out in release(Path(rest[0]) if rest else EXERCISES):
                print(f"publicado {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
        else:
            if len(rest) != 2:
                print("uso: convertir BORRADOR.py NN-tema")
                return 2
            print(f"creado {convert(Path(rest[0]), rest[1])}")
    except AuthoringError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
