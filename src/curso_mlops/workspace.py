"""The learner's own copies of the exercises, in ``trabajo/`` (ignored by git).

Working in a copy keeps ``git pull`` of the course from ever touching or conflicting with a
learner's answers. Copies are made only where none exists yet: nothing here overwrites work.

    python -m curso_mlops.workspace     (make trabajo)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
WORKSPACE = ROOT / "trabajo"


def prepare(exercises: Path = EXERCISES, workspace: Path = WORKSPACE) -> list[Path]:
    """Copy every released notebook that the workspace lacks; return the new copies."""
    exercises, workspace = Path(exercises), Path(workspace)
    if not exercises.is_dir():
        raise FileNotFoundError(f"No encuentro la carpeta de ejercicios {exercises}.")
    created = []
    for source in sorted(exercises.glob("*/*.ipynb")):
        target = workspace / source.relative_to(exercises)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        created.append(target)
    return created


def main() -> int:
    created = prepare()
    for path in created:
        print(f"nuevo: {path.relative_to(ROOT)}")
    kept = len(list(WORKSPACE.glob("*/*.ipynb"))) - len(created)
    print(f"trabajo/: {len(created)} ejercicios nuevos, {kept} que ya tenías (intactos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
