"""Shared fixtures: where things are, and the list of themes every generic check runs on."""

from __future__ import annotations

from pathlib import Path

import pytest

from curso_mlops.authoring import themes

ROOT = Path(__file__).resolve().parents[1]
THEMES = themes(ROOT / "solutions")


def pytest_report_header(config):
    return f"temas en solutions/: {', '.join(THEMES) or 'ninguno'}"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def pytest_terminal_summary(terminalreporter):
    """Say which questions of the article are still waiting for their notebook."""
    from test_coverage import pending

    waiting = pending()
    terminalreporter.write_line(
        f"cobertura del artículo: {36 - len(waiting)}/36 preguntas hechas"
        + (f"; pendientes: {', '.join(waiting)}" if waiting else ""))
