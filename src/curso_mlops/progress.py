"""A learner's progress, from their own notebooks in ``trabajo/``: a table and an HTML report.

Status comes from the notebook itself (has any answer changed from the release?); the score
from the last check (``curso comprobar``), kept in ``trabajo/.notas/<tema>.json`` with the
notebook's hash, so an edited notebook shows its old score as out of date instead of a
wrong one. Grading every theme takes minutes: ``curso progreso --calificar`` does it on
demand, in parallel, for the themes whose score is missing or out of date.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

from . import workspace

NOT_STARTED, IN_PROGRESS, DONE = "sin empezar", "en curso", "hecho"
SCORES = ".notas"


@dataclass
class ThemeProgress:
    theme: str
    status: str
    score: float | None = None     # automatic points at the last check
    max_score: float | None = None
    stale: bool = False            # the notebook changed since that check
    note: str = ""

    @property
    def fraction(self) -> float:
        return (self.score or 0) / self.max_score if self.max_score else 0.0


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_score(theme: str, notebook: Path, score: float, max_score: float,
               work: Path | None = None) -> Path:
    """Remember a check's score for ``notebook`` (what ``progreso`` shows)."""
    folder = Path(work if work is not None else workspace.WORKSPACE) / SCORES
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{theme}.json"
    target.write_text(json.dumps({"theme": theme, "score": score, "max_score": max_score,
                                  "sha256": digest(notebook),
                                  "checked": time.strftime("%Y-%m-%d %H:%M:%S")}))
    return target


def _answers(path: Path) -> dict[str, str] | None:
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 (a damaged copy is reported, not a crash)
        return None
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def theme_progress(theme: str, exercises: Path | None = None,
                   work: Path | None = None) -> ThemeProgress:
    exercises = Path(exercises if exercises is not None else workspace.EXERCISES)
    work = Path(work if work is not None else workspace.WORKSPACE)
    copy = work / theme / f"{theme}.ipynb"
    if not copy.is_file():
        return ThemeProgress(theme, NOT_STARTED, note="sin copia en trabajo/")
    mine, released = _answers(copy), _answers(exercises / theme / f"{theme}.ipynb") or {}
    if mine is None:
        return ThemeProgress(theme, IN_PROGRESS, note="el cuaderno no se puede leer (¿JSON roto?)")
    touched = any(mine.get(gid) != src for gid, src in released.items() if gid in mine) or \
        set(released) - set(mine)
    status = IN_PROGRESS if touched else NOT_STARTED
    record = work / SCORES / f"{theme}.json"
    if not record.is_file():
        return ThemeProgress(theme, status)
    saved = json.loads(record.read_text())
    stale = saved.get("sha256") != digest(copy)
    result = ThemeProgress(theme, status, saved["score"], saved["max_score"], stale,
                           note=f"comprobado {saved.get('checked', '')}")
    if not stale and saved["max_score"] and saved["score"] == saved["max_score"]:
        result.status = DONE
    return result


def progress(exercises: Path | None = None, work: Path | None = None) -> list[ThemeProgress]:
    """Every released theme, in order."""
    exercises = Path(exercises if exercises is not None else workspace.EXERCISES)
    themes = sorted(p.name for p in exercises.iterdir() if (p / f"{p.name}.ipynb").is_file())
    return [theme_progress(t, exercises, work) for t in themes]


def table(rows: list[ThemeProgress]) -> str:
    lines = [f"{'tema':<30} {'estado':<12} {'nota':>10}  notas"]
    for r in rows:
        score = "—" if r.score is None else f"{r.score:g}/{r.max_score:g}"
        note = ("desactualizada: vuelve a comprobar; " if r.stale else "") + r.note
        lines.append(f"{r.theme:<30} {r.status:<12} {score:>10}  {note}".rstrip())
    done = sum(r.status == DONE for r in rows)
    lines.append(f"{done} de {len(rows)} temas hechos")
    return "\n".join(lines)


def chart_png(rows: list[ThemeProgress]) -> bytes:
    """A horizontal bar per theme: the share of automatic points, coloured by status."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {NOT_STARTED: "#bbbbbb", IN_PROGRESS: "#f0a030", DONE: "#2e8b57"}
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.2))
    names = [r.theme for r in rows][::-1]
    values = [100 * r.fraction for r in rows][::-1]
    ax.barh(names, values, color=[colours[r.status] for r in rows][::-1])
    for y, r in enumerate(rows[::-1]):  # the score, or the status where there is no bar
        label = r.status if r.score is None else f"{r.score:g}/{r.max_score:g}"
        label += " (desactualizada)" if r.stale else ""
        ax.text(min(100 * r.fraction, 70) + 1, y, label, va="center", fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% de los puntos automáticos (última comprobación)")
    ax.set_title("Tu progreso en el curso")
    for status, colour in colours.items():
        ax.bar(0, 0, color=colour, label=status)
    ax.legend(loc="lower right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def html_report(rows: list[ThemeProgress], out: Path) -> Path:
    """A self-contained HTML page: the bar chart (embedded PNG) and the table."""
    png = base64.b64encode(chart_png(rows)).decode("ascii")
    body = "".join(
        f"<tr><td>{html.escape(r.theme)}</td><td>{r.status}</td>"
        f"<td>{'—' if r.score is None else f'{r.score:g} / {r.max_score:g}'}</td>"
        f"<td>{'desactualizada; ' if r.stale else ''}{html.escape(r.note)}</td></tr>"
        for r in rows)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "<!DOCTYPE html><html lang='es'><head><meta charset='utf-8'>"
        "<title>Progreso · curso-mlops</title><style>body{font-family:sans-serif;margin:2em}"
        "td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}</style></head>"
        f"<body><h1>Tu progreso</h1><p>Generado el {time.strftime('%Y-%m-%d %H:%M')}. "
        f"{sum(r.status == DONE for r in rows)} de {len(rows)} temas hechos.</p>"
        f"<img alt='barras de progreso por tema' src='data:image/png;base64,{png}'>"
        "<table><tr><th>tema</th><th>estado</th><th>nota</th><th>notas</th></tr>"
        f"{body}</table></body></html>", encoding="utf-8")
    return out
