"""Shared fixtures: where things are, and the list of themes every generic check runs on."""

from __future__ import annotations

from pathlib import Path

import pytest

from curso_mlops.authoring import themes

ROOT = Path(__file__).resolve().parents[1]
THEMES = themes(ROOT / "solutions")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``--dist loadgroup``, keep together what must share a worker.

    The cells of one notebook (nbval runs them in one kernel) and the grading tests of one
    theme (they share one nbgrader run); everything else spreads freely over the workers.
    """
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.xdist_group(item.path.stem))
        elif "graded" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(f"nbgrader-{item.callspec.params['graded']}"))


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
