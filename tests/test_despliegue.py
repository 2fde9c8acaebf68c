"""The workshop deployment files, checked without a cluster or a Docker engine.

``despliegue/z2jh-values.yaml`` is checked against the structure Zero to JupyterHub documents
for its values (the chart's schema is not available offline): only known top-level sections,
the course image, the nbgrader exchange on a ReadWriteMany claim mounted where nbgrader's
config says, and a start hook that copies the course without overwriting. The Dockerfile is
read with dockerfile-parse, as Docker would read it. And .ci/run's preparation goes on to the
tests when it cannot install their system dependencies.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from conftest import ROOT

DEPLOY = ROOT / "despliegue"
# top-level sections of the chart's values (Zero to JupyterHub's configuration reference)
Z2JH_SECTIONS = {"fullnameOverride", "nameOverride", "enabled", "imagePullSecrets",
                 "imagePullSecret", "hub", "rbac", "proxy", "singleuser", "scheduling",
                 "prePuller", "ingress", "cull", "debug", "global", "custom"}
SINGLEUSER_KEYS = {"image", "defaultUrl", "extraEnv", "memory", "cpu", "storage", "extraFiles",
                   "lifecycleHooks", "networkPolicy", "profileList", "uid", "fsGid", "cmd",
                   "startTimeout", "serviceAccountName", "nodeSelector", "extraLabels",
                   "extraAnnotations", "initContainers", "extraContainers", "extraResource",
                   "extraPodConfig", "extraTolerations", "extraNodeAffinity", "cloudMetadata",
                   "events", "allowPrivilegeEscalation", "podNameTemplate", "containerSecurityContext"}
STORAGE_KEYS = {"type", "capacity", "homeMountPath", "extraVolumes", "extraVolumeMounts",
                "dynamic", "static", "extraLabels"}


@pytest.fixture(scope="module")
def values():
    return yaml.safe_load((DEPLOY / "z2jh-values.yaml").read_text(encoding="utf-8"))


def test_values_use_only_sections_the_chart_knows(values):
    assert set(values) <= Z2JH_SECTIONS, f"secciones desconocidas: {set(values) - Z2JH_SECTIONS}"
    assert set(values["singleuser"]) <= SINGLEUSER_KEYS, set(values["singleuser"]) - SINGLEUSER_KEYS
    assert set(values["singleuser"]["storage"]) <= STORAGE_KEYS
    hub = values["hub"]["config"]
    assert hub["JupyterHub"]["authenticator_class"]
    assert "profesora" in hub["Authenticator"]["admin_users"]


def test_students_run_the_course_image(values):
    image = values["singleuser"]["image"]
    assert isinstance(image["name"], str) and image["name"].endswith("curso-mlops")
    assert isinstance(image["tag"], str) and image["tag"], "el tag debe ser una cadena (YAML)"
    url = values["singleuser"]["defaultUrl"]
    assert url.startswith("/lab/tree/curso-mlops/")
    assert (ROOT / url.removeprefix("/lab/tree/curso-mlops/")).is_file(), f"{url} no existe"
    memory = values["singleuser"]["memory"]
    assert re.fullmatch(r"\d+G", memory["limit"]) and int(memory["limit"][:-1]) >= 1


def test_exchange_is_shared_storage_mounted_where_nbgrader_looks(values):
    storage = values["singleuser"]["storage"]
    volumes = {v["name"]: v for v in storage["extraVolumes"]}
    mounts = {m["name"]: m for m in storage["extraVolumeMounts"]}
    assert set(mounts) <= set(volumes), "un volumen montado no está declarado"
    exchange = volumes["nbgrader-exchange"]["persistentVolumeClaim"]["claimName"]
    pvc = yaml.safe_load((DEPLOY / "nbgrader-exchange-pvc.yaml").read_text(encoding="utf-8"))
    assert pvc["kind"] == "PersistentVolumeClaim" and pvc["metadata"]["name"] == exchange
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"], "todos los alumnos montan el mismo volumen"
    config = values["singleuser"]["extraFiles"]["nbgrader-config"]
    assert config["mountPath"] == "/etc/jupyter/nbgrader_config.py"  # in jupyter's config path
    root = re.search(r'c\.Exchange\.root = "([^"]+)"', config["stringData"]).group(1)
    assert mounts["nbgrader-exchange"]["mountPath"] == root
    assert 'c.CourseDirectory.course_id = "curso-mlops"' in config["stringData"]
    compile(config["stringData"], "nbgrader_config.py", "exec")


def test_each_student_gets_a_copy_of_the_course_that_is_never_overwritten(values):
    command = values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    script = command[-1]
    assert script.startswith("test -d /home/jovyan/curso-mlops ||"), script
    assert "python -m curso_mlops.workspace" in script
    assert values["singleuser"]["extraEnv"]["PYTHONPATH"] == "/home/jovyan/curso-mlops/src"


def test_dockerfile_builds_the_course_image_as_docker_reads_it():
    parser = DockerfileParser(path=str(DEPLOY / "Dockerfile"))
    steps = [(i["instruction"], i["value"]) for i in parser.structure
             if i["instruction"] != "COMMENT"]
    kinds = [k for k, _ in steps]
    assert kinds[0] == "FROM" and parser.baseimage.startswith("python:3.1")
    copy = next(v for k, v in steps if k == "COPY")
    assert shlex.split(copy)[-1] == "/opt/curso-mlops"
    install = " ".join(v for k, v in steps if k == "RUN" and "pip install" in v)
    assert "-c requirements/constraints.txt" in install, "la imagen debe llevar las versiones probadas"
    assert "JUPYTERHUB_SPEC" in install
    users = [v for k, v in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0"), "el servidor del alumno no corre como root"
    assert parser.cmd == '["jupyterhub-singleuser"]' or "jupyterhub-singleuser" in parser.cmd
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for path in (".venv/", ".git/", "trabajo/"):
        assert path in ignored, f"{path} entraría en la imagen"


def test_ci_preparation_skips_what_it_cannot_install(tmp_path):
    """Without Chromium, apt-get or npm, .ci/run says so and goes on to the tests."""
    tools = tmp_path / "bin"  # a PATH with the basics and without apt-get, sudo or npm
    tools.mkdir()
    for name in ("bash", "id", "dirname", "make", "tail", "env", "cat"):
        found = shutil.which(name)
        if found:
            (tools / name).symlink_to(found)
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "run")], capture_output=True, text=True, timeout=60,
        env={"PATH": str(tools), "CHROMIUM": str(tmp_path / "sin-chromium"),
             "CI_SOLO_PREPARAR": "1", "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sin apt-get; las pruebas de navegador se saltarán" in done.stdout
    assert "sin npm; las pruebas de JupyterHub se saltarán" in done.stdout
