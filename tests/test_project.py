"""The project's own promises: layout, the two commands, locked environment, safe commands."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import ROOT, THEMES
from curso_mlops import authoring, grading, workspace


def test_top_level_layout():
    for entry in ["pyproject.toml", "environment.yml", "notebooks", "exercises", "solutions",
                  "datasets", "tests", "README.md", "CONTRIBUTING.md", "Makefile",
                  "nbgrader_config.py", ".ci/run", "requirements/constraints.txt",
                  "docs/cobertura.md", ".github/workflows/pruebas.yml"]:
        assert (ROOT / entry).exists(), f"falta {entry}"


def test_readme_quick_start_is_the_two_make_commands_and_ci_runs_the_same():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Inicio rápido", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^make lab\b", quick, re.M) and re.search(r"^make test\b", quick, re.M)
    assert "exec make test" in (ROOT / ".ci/run").read_text()
    workflow = yaml.safe_load((ROOT / ".github/workflows/pruebas.yml").read_text())
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert "bash .ci/run" in steps


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_dependency_is_pinned_in_the_constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    pins = {}
    for line in (ROOT / "requirements/constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name.lower().replace("_", "-")] = version.strip()
    assert not wanted - set(pins), f"sin versión exacta: {sorted(wanted - set(pins))}"
    assert "curso-mlops" not in pins
    major, minor = (int(x) for x in pins["nbgrader"].split(".")[:2])
    patch = int(pins["nbgrader"].split(".")[2])
    assert (major, minor, patch) >= (0, 9, 6), "nbgrader < 0.9.6 no funciona con JupyterLab ≥ 4.3"


def test_conda_environment_installs_the_same_project_and_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-c requirements/constraints.txt" in pip and "-e .[test]" in pip


def test_workspace_copies_only_what_is_missing(tmp_path):
    exercises = tmp_path / "exercises"
    (exercises / "01-x").mkdir(parents=True)
    (exercises / "01-x" / "01-x.ipynb").write_text("nuevo")
    (exercises / "02-y").mkdir()
    (exercises / "02-y" / "02-y.ipynb").write_text("nuevo")
    notebooks = tmp_path / "notebooks"  # the welcome and the mock interview: copied too
    notebooks.mkdir()
    (notebooks / "00-hola.ipynb").write_text("bienvenida")
    mine = tmp_path / "trabajo" / "01-x" / "01-x.ipynb"
    mine.parent.mkdir(parents=True)
    mine.write_text("mis respuestas")
    created = workspace.prepare(exercises, tmp_path / "trabajo", notebooks)
    assert mine.read_text() == "mis respuestas"
    assert sorted(p.relative_to(tmp_path) for p in created) == [
        Path("trabajo/00-hola.ipynb"), Path("trabajo/02-y/02-y.ipynb")]
    assert workspace.prepare(exercises, tmp_path / "trabajo", notebooks) == []


def test_welcome_notebook_links_every_theme():
    welcome = nbformat.read(ROOT / "notebooks/00-bienvenida.ipynb", as_version=4)
    text = "\n".join(c.source for c in welcome.cells)
    for theme in THEMES:
        assert f"../trabajo/{theme}/{theme}.ipynb" in text, f"la bienvenida no enlaza {theme}"
        assert (ROOT / "exercises" / theme / f"{theme}.ipynb").is_file()


def test_links_between_notebooks_resolve():
    """A link to another notebook must exist where it is opened: in the repository (nbval,
    authors) and in the learner's copy in trabajo/, which mirrors exercises/ and notebooks/
    (what `make trabajo` copies; `make lab` opens trabajo/00-bienvenida.ipynb). A theme still
    being written is named without a link."""
    link = re.compile(r"\]\((\.\.?/[^)#\s]+\.ipynb)")
    work = ROOT / "trabajo"
    # each learner's copy in trabajo/ → the file it is a copy of
    copies = {workspace.copy_path(name, original, work): original
              for name, original in workspace.originals().items()}
    assert work / "00-bienvenida.ipynb" in copies
    pages = sorted((ROOT / "solutions").glob("*/*.ipynb")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    broken = []
    for page in pages:
        text = "\n".join(c.source for c in nbformat.read(page, as_version=4).cells
                         if c.cell_type == "markdown")
        name = page.stem
        opened_at = [page, work / page.relative_to(page.parents[1])
                     if page.parent.name == name else work / page.name]
        for target in link.findall(text):
            for where in opened_at:
                resolved = Path(os.path.normpath(where.parent / target))
                found = copies.get(resolved, resolved) if resolved.is_relative_to(work) else resolved
                if not found.is_file():
                    broken.append(f"{page.relative_to(ROOT)} (abierto en "
                                  f"{where.relative_to(ROOT)}) → {target}")
    assert not broken, "enlaces rotos:\n" + "\n".join(broken)


def test_a_draft_never_replaces_an_executed_solution(tmp_path, monkeypatch):
    monkeypatch.setattr(authoring, "SOLUTIONS", tmp_path)
    draft = tmp_path / "borrador.py"
    draft.write_text("# %% [markdown]\n# # Hola\n\n# %%\nprint(1)\n")
    target = authoring.convert(draft, "98-prueba")
    assert target == tmp_path / "98-prueba" / "98-prueba.ipynb"
    authoring.execute(target)
    before = target.read_text()
    with pytest.raises(authoring.AuthoringError, match="no lo sobrescribo"):
        authoring.convert(draft, "98-prueba")
    assert target.read_text() == before
    with pytest.raises(authoring.AuthoringError, match="NN-tema"):
        authoring.convert(draft, "Prueba")


def test_grading_explains_bad_input(tmp_path):
    with pytest.raises(grading.GradingError, match="Tema desconocido"):
        grading.autograde(tmp_path / "x.ipynb", "77-no-existe")
    if THEMES:
        with pytest.raises(grading.GradingError, match="No encuentro el cuaderno"):
            grading.autograde(tmp_path / "x.ipynb", THEMES[0])
        with pytest.raises(grading.GradingError, match="alumno no válido"):
            grading.grade(THEMES[0], {"../fuera": tmp_path / "x.ipynb"})


def test_nbgrader_labextension_is_enabled_and_compatible():
    """nbgrader 0.9.5's extension was flagged incompatible with JupyterLab >= 4.3."""
    import subprocess
    import sys
    from pathlib import Path

    jupyter = Path(sys.executable).parent / "jupyter"
    done = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True)
    listing = done.stdout + done.stderr
    line = next((ln for ln in listing.splitlines() if "@jupyter/nbgrader" in ln), "")
    assert "enabled" in line and "OK" in line, listing


def test_our_ci_workflow_passes_the_github_workflow_schema():
    """The course checks the learner's workflow against this schema (theme 06); ours too."""
    import importlib.resources
    import json

    import jsonschema

    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((schema_file / "github-workflows.json").read_text())
    for workflow in sorted((ROOT / ".github/workflows").glob("*.yml")):
        data = yaml.safe_load(workflow.read_text())
        data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
        jsonschema.validate(data, schema)
