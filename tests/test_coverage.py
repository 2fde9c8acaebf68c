"""The coverage map: every question of the article has exactly one home in the course."""

from __future__ import annotations

import re

import nbformat

from conftest import ROOT

MAP = ROOT / "docs" / "cobertura.md"
ROW = re.compile(r"^\| (Q\d\d) \| ([^|]+) \| `([^`]+)` \| ([^|]+) \| (hecho|pendiente) \|$")


def rows():
    return [m.groups() for line in MAP.read_text(encoding="utf-8").splitlines()
            if (m := ROW.match(line))]


def pending():
    return [q for q, *_, state in rows() if state == "pendiente"]


def test_every_question_is_mapped_exactly_once():
    ids = [r[0] for r in rows()]
    assert sorted(ids) == [f"Q{i:02d}" for i in range(1, 37)], f"ids en el mapa: {ids}"
    lines = [ln for ln in MAP.read_text(encoding="utf-8").splitlines() if ln.startswith("| Q")]
    assert len(lines) == len(ids), "hay filas del mapa con un formato que no se reconoce"


def _sections(path):
    nb = nbformat.read(path, as_version=4)
    return {h.strip() for c in nb.cells if c.cell_type == "markdown"
            for h in re.findall(r"^## (.+)$", c.source, flags=re.M)}


def test_done_sections_exist_and_every_question_section_is_mapped():
    mapped: dict[str, set[str]] = {}
    for q, _, notebook, section, state in rows():
        if state != "hecho":
            continue
        path = ROOT / notebook
        assert path.is_file(), f"{q}: no existe {notebook}"
        assert section.strip() in _sections(path), f"{q}: {notebook} no tiene '## {section.strip()}'"
        mapped.setdefault(notebook, set()).add(section.strip())
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        notebook = str(path.relative_to(ROOT))
        questions = {s for s in _sections(path) if s.startswith("Pregunta ")}
        missing = questions - mapped.get(notebook, set())
        assert not missing, f"{notebook}: secciones sin pregunta en el mapa: {sorted(missing)}"
