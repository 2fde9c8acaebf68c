"""The gate for the notebook template described in CONTRIBUTING.md.

    python -m curso_mlops.template [CUADERNO ...]   (default: every solution notebook)

:func:`check` returns the list of problems of one solution notebook, each a sentence that
says where and what to fix; an empty list means the notebook has the course's shape.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat

SUBSECTIONS = ["Respuesta de entrevista", "A fondo", "Manos a la obra", "Para la entrevista"]
LEVELS = ("[Básico]", "[Intermedio]", "[Avanzado]")
TITLE_FIELDS = ("**Preguntas:**", "**Al terminar serás capaz de:**", "**Tiempo estimado:**",
                "**Nivel:**")
INTERVIEW_BOX = ("**Puntos clave**", "**Preguntas de seguimiento**", "**Errores que evitar**")
H2 = re.compile(r"^## (.+)$", re.M)
H3 = re.compile(r"^### (.+)$", re.M)
EXERCISE = re.compile(r"^Ejercicio (\d+)\.(\d+): \S")
QUESTION = re.compile(r"^Pregunta (\d+): \S")


def _src(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _headings(cell, pattern) -> list[str]:
    """Section titles of a Markdown cell; answer cells (nbgrader) hold none of the spine."""
    if cell.cell_type != "markdown" or _nbg(cell):
        return []
    return pattern.findall(_src(cell))


def _last_statement_ok(code: str) -> bool:
    """A test cell must end with a call or an assert: a bare value is read as partial credit."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    if not tree.body:
        return False
    last = tree.body[-1]
    return isinstance(last, ast.Assert) or (isinstance(last, ast.Expr) and
                                            isinstance(last.value, ast.Call))


def check(path: str | Path, min_auto: int = 4, min_manual: int = 1) -> list[str]:
    path = Path(path)
    theme = path.stem
    nn = theme[:2]
    problems: list[str] = []
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells
    if not cells:
        return [f"{path.name}: el cuaderno está vacío."]

    # 1. title cell
    title = _src(cells[0])
    if cells[0].cell_type != "markdown" or not title.startswith("# "):
        problems.append("la primera celda debe ser Markdown y empezar por '# ' (el título).")
    for field in TITLE_FIELDS:
        if field not in title:
            problems.append(f"a la celda de título le falta {field}")
    if not any(level in title for level in LEVELS):
        problems.append(f"la celda de título debe indicar el nivel: uno de {', '.join(LEVELS)}.")
    if not re.search(r"\bQ\d\d\b", title):
        problems.append("la celda de título debe citar los ids de las preguntas (p. ej. Q03).")

    # 2. the order of ## sections
    h2 = [(i, h) for i, c in enumerate(cells) for h in _headings(c, H2)]
    names = [h for _, h in h2]
    if not names or names[0] != "Preparación":
        problems.append(f"la primera sección (##) debe ser 'Preparación'; hay {names[:1]}.")
    if not names or names[-1] != "Resumen":
        problems.append("la última sección (##) debe ser 'Resumen'.")
    middle = names[1:-1]
    questions = [QUESTION.match(h) for h in middle]
    if not middle or not all(questions):
        problems.append("entre 'Preparación' y 'Resumen' solo van secciones "
                        f"'## Pregunta N: …'; hay {middle}.")
    elif [int(m.group(1)) for m in questions] != list(range(1, len(questions) + 1)):
        problems.append("las preguntas deben numerarse 1, 2, 3… en orden.")

    # 3. inside each question: subsections in order, exercises between 'Manos a la obra'
    #    and 'Para la entrevista', and a diagram or a plot
    bounds = [i for i, _ in h2] + [len(cells)]
    auto = manual = 0
    grade_ids: list[str] = []
    for k, (start, name) in enumerate(h2):
        m = QUESTION.match(name)
        if not m:
            continue
        q = int(m.group(1))
        section = cells[start:bounds[k + 1]]
        h3 = [(j, h) for j, c in enumerate(section) for h in _headings(c, H3)]
        fixed = [h for _, h in h3 if not EXERCISE.match(h)]
        if fixed != SUBSECTIONS:
            problems.append(f"Pregunta {q}: las subsecciones (###) deben ser {SUBSECTIONS} "
                            f"en ese orden (más los ejercicios); hay {fixed}.")
            continue
        at = {h: j for j, h in h3}
        has_figure = any("```mermaid" in _src(c) for c in section if c.cell_type == "markdown") or \
            any("image/png" in o.get("data", {}) for c in section if c.cell_type == "code"
                for o in c.get("outputs", []))
        if not has_figure:
            problems.append(f"Pregunta {q}: necesita un diagrama Mermaid o una gráfica.")
        box = _src(section[at["Para la entrevista"]])
        for label in INTERVIEW_BOX:
            if label not in box:
                problems.append(f"Pregunta {q}: a 'Para la entrevista' le falta {label}.")
        expected_m = 1
        for j, h in h3:
            ex = EXERCISE.match(h)
            if not ex:
                continue
            where = f"Ejercicio {ex.group(1)}.{ex.group(2)}"
            if not at["Manos a la obra"] < j < at["Para la entrevista"]:
                problems.append(f"{where}: debe estar entre 'Manos a la obra' y 'Para la entrevista'.")
            if int(ex.group(1)) != q or int(ex.group(2)) != expected_m:
                problems.append(f"{where}: se esperaba el número {q}.{expected_m}.")
            expected_m = int(ex.group(2)) + 1
            # the lead-in may span several Markdown cells; then comes the answer
            n = j + 1
            while n < len(section) and section[n].cell_type == "markdown" and not _nbg(section[n]) \
                    and not H3.search(_src(section[n])):
                n += 1
            answer = section[n] if n < len(section) else None
            if answer is None or not _nbg(answer).get("solution"):
                problems.append(f"{where}: tras la entrada debe venir la celda de respuesta "
                                "(nbgrader solution: true).")
                continue
            gid = _nbg(answer).get("grade_id", "")
            grade_ids.append(gid)
            prefix = f"ej{nn}-{ex.group(1)}-{ex.group(2)}-"
            if not gid.startswith(prefix) or gid.endswith("-tests"):
                problems.append(f"{where}: el grade_id de la respuesta debe empezar por "
                                f"'{prefix}'; es {gid!r}.")
            if answer.cell_type == "markdown":  # free text, graded by hand
                manual += 1
                nbg = _nbg(answer)
                if not nbg.get("grade") or not nbg.get("points"):
                    problems.append(f"{where}: la respuesta libre necesita grade: true y puntos.")
                if "BEGIN SOLUTION" not in _src(answer):
                    problems.append(f"{where}: la respuesta libre debe llevar respuesta modelo y "
                                    "rúbrica entre BEGIN/END SOLUTION.")
                continue
            test = section[n + 1] if n + 1 < len(section) else None
            tnbg = _nbg(test) if test is not None else {}
            if test is None or test.cell_type != "code" or not tnbg.get("grade") or \
                    tnbg.get("solution"):
                problems.append(f"{where}: justo después de la respuesta debe ir su celda de "
                                "pruebas (grade: true, solution: false).")
                continue
            auto += 1
            tid = tnbg.get("grade_id", "")
            grade_ids.append(tid)
            if tid != f"{gid}-tests":
                problems.append(f"{where}: el grade_id de las pruebas debe ser '{gid}-tests'; "
                                f"es {tid!r}.")
            if not tnbg.get("points") or not tnbg.get("locked"):
                problems.append(f"{where}: la celda de pruebas necesita puntos y locked: true.")
            code = _src(test)
            visible = code.split("### BEGIN HIDDEN TESTS")[0]
            if "feedback.passed(" not in visible or "### BEGIN HIDDEN TESTS" not in code:
                problems.append(f"{where}: las pruebas deben tener comprobaciones visibles, "
                                "feedback.passed(...) y después pruebas ocultas.")
            if not _last_statement_ok(code):
                problems.append(f"{where}: la celda de pruebas debe acabar en una llamada o un "
                                "assert, no en una expresión suelta.")
            for out in test.get("outputs", []):
                if out.get("name") == "stderr" or out.get("output_type") == "error":
                    problems.append(f"{where}: la celda de pruebas de la solución escribe en "
                                    "stderr o falla; nbgrader la puntuaría 0.")

    # 4. graded cells outside the triplets, duplicates, counts, execution
    graded = [c for c in cells if _nbg(c).get("grade") or _nbg(c).get("solution")]
    all_ids = [_nbg(c).get("grade_id") for c in graded]
    if len(all_ids) != len(grade_ids):
        problems.append("hay celdas calificadas fuera de un triplete 'Ejercicio N.M'.")
    duplicates = sorted({g for g in all_ids if all_ids.count(g) > 1})
    if duplicates:
        problems.append(f"grade_id repetidos: {duplicates}.")
    if auto < min_auto:
        problems.append(f"hay {auto} ejercicios autocorregidos; se piden al menos {min_auto}.")
    if manual < min_manual:
        problems.append(f"hay {manual} respuestas libres; se pide al menos {min_manual}.")
    unexecuted = sum(1 for c in cells if c.cell_type == "code" and _src(c).strip()
                     and c.get("execution_count") is None)
    if unexecuted:
        problems.append(f"{unexecuted} celdas de código sin ejecutar: guarda la solución "
                        "ejecutada (make soluciones).")
    return [f"{path.name}: {p}" for p in problems]


def grade_ids(path: str | Path) -> list[str]:
    nb = nbformat.read(Path(path), as_version=4)
    return [_nbg(c)["grade_id"] for c in nb.cells if "grade_id" in _nbg(c)]


def main(argv: list[str] | None = None) -> int:
    from .authoring import SOLUTIONS, notebook_path, themes

    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)] or \
        [notebook_path(t) for t in themes(SOLUTIONS)]
    problems = [p for path in paths for p in check(path)]
    for p in problems:
        print(p)
    print(f"plantilla: {len(paths)} cuadernos, {len(problems)} problemas")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
