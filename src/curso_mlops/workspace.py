"""The learner's own copies of the course, in ``trabajo/`` (ignored by git).

Working in a copy keeps ``git pull`` of the course from ever touching or conflicting with a
learner's answers: ``trabajo/NN-tema/NN-tema.ipynb`` for each exercise and
``trabajo/<cuaderno>.ipynb`` for the notebooks without a grade (the welcome, the mock
interview), so the welcome's links ``../trabajo/NN-tema/NN-tema.ipynb`` resolve from either
place. Copies are made only where none exists yet; a reset always keeps a timestamped backup
in ``trabajo/.copias/``: nothing here overwrites work without one.

    python -m curso_mlops.workspace     (make trabajo)
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
NOTEBOOKS = ROOT / "notebooks"
WORKSPACE = ROOT / "trabajo"
BACKUPS = ".copias"


class WorkspaceError(RuntimeError):
    """What the learner asked for does not exist; the message says what to do."""


def originals(exercises: Path | None = None, notebooks: Path | None = None) -> dict[str, Path]:
    """``{name: original}`` of everything a learner gets a copy of: themes and notebooks/."""
    exercises = EXERCISES if exercises is None else exercises
    notebooks = NOTEBOOKS if notebooks is None else notebooks
    found = {p.parent.name: p for p in sorted(Path(exercises).glob("*/*.ipynb"))
             if p.stem == p.parent.name}
    if Path(notebooks).is_dir():
        found.update({p.stem: p for p in sorted(Path(notebooks).glob("*.ipynb"))})
    return found


def copy_path(name: str, original: Path, workspace: Path | None = None) -> Path:
    """Where the learner's copy of ``original`` lives: themes in a folder of their own."""
    workspace = WORKSPACE if workspace is None else workspace
    if original.parent.name == name:
        return Path(workspace) / name / f"{name}.ipynb"
    return Path(workspace) / f"{name}.ipynb"


def prepare(exercises: Path | None = None, workspace: Path | None = None,
            notebooks: Path | None = None) -> list[Path]:
    """Copy every released notebook that the workspace lacks; return the new copies."""
    exercises = Path(EXERCISES if exercises is None else exercises)
    workspace = Path(WORKSPACE if workspace is None else workspace)
    if not exercises.is_dir():
        raise FileNotFoundError(f"No encuentro la carpeta de ejercicios {exercises}.")
    created = []
    for name, source in originals(exercises, notebooks).items():
        target = copy_path(name, source, workspace)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        created.append(target)
    return created


def backup(path: Path, workspace: Path | None = None) -> Path:
    """Copy ``path`` to ``trabajo/.copias/<nombre>-AAAAmmdd-HHMMSS.ipynb``; never overwrites."""
    folder = Path(WORKSPACE if workspace is None else workspace) / BACKUPS
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    target, n = folder / f"{stem}.ipynb", 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}.ipynb"
    shutil.copy2(path, target)
    return target


def reset(name: str, exercises: Path | None = None, workspace: Path | None = None,
          notebooks: Path | None = None) -> tuple[Path, Path | None]:
    """A fresh copy of ``name`` (a theme or a notebook of notebooks/); (copy, backup or None)."""
    known = originals(exercises, notebooks)
    name = Path(name).stem if str(name).endswith(".ipynb") else str(name).rstrip("/")
    if name not in known:
        raise WorkspaceError(f"No conozco {name!r}. Puedes reiniciar: {', '.join(known)}.")
    target = copy_path(name, known[name], workspace)
    saved = backup(target, workspace) if target.exists() else None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".nuevo")
    shutil.copy2(known[name], tmp)
    tmp.replace(target)  # atomic: the learner's file is either the old one or the fresh one
    return target, saved


def main() -> int:
    created = prepare()
    for path in created:
        print(f"nuevo: {path.relative_to(ROOT)}")
    kept = len(originals()) - len(created)
    print(f"trabajo/: {len(created)} cuadernos nuevos, {kept} que ya tenías (intactos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
