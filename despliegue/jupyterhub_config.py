"""JupyterHub for a curso-mlops workshop on one server (README: «Taller en un servidor»).

    CURSO_HUB_ALUMNOS=ana,bruno,carla CURSO_HUB_CLAVE=... CURSO_HUB_CLAVE_PROFESORA=... \
        .venv/bin/jupyterhub -f despliegue/jupyterhub_config.py

Choices, and why:
- Login: JupyterHub's SharedPasswordAuthenticator, one class password for the students listed
  in CURSO_HUB_ALUMNOS and another for the instructor (admin). It is meant for short events with
  little at stake: a student who knows the class password can log in as another student. PAM
  would need a Unix account per student; for more, use NativeAuthenticator or your OAuth.
- Servers: SimpleLocalProcessSpawner, one process per student under the hub's Unix user, each
  with its own HOME (CURSO_HUB_HOGARES/<alumno>). Nothing to create per student, but the
  students are not isolated from each other by the operating system: for that, Unix accounts
  (LocalProcessSpawner) or containers (Zero to JupyterHub, despliegue/z2jh-values.yaml).
- The course: before each server starts, the student gets a copy of the welcome and of the
  exercises in ~/curso-mlops (never overwriting), and nbgrader's config points at the shared
  exchange CURSO_HUB_INTERCAMBIO, where the instructor releases and collects.
- The proxy: configurable-http-proxy installed by `make proxy` in despliegue/node_modules.
"""

import os
import shutil
import sys
from pathlib import Path

from curso_mlops import workspace

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STATE = Path(os.environ.get("CURSO_HUB_ESTADO", HERE / ".hub"))
HOMES = Path(os.environ.get("CURSO_HUB_HOGARES", STATE / "hogares"))
EXCHANGE = Path(os.environ.get("CURSO_HUB_INTERCAMBIO", STATE / "intercambio"))
COURSE_ID = "curso-mlops"
INSTRUCTOR = os.environ.get("CURSO_HUB_PROFESORA", "profesora")
STUDENTS = {s.strip() for s in os.environ.get("CURSO_HUB_ALUMNOS", "").split(",") if s.strip()}

for folder in (STATE, HOMES, EXCHANGE):
    folder.mkdir(parents=True, exist_ok=True)
EXCHANGE.chmod(0o777)  # nbgrader's exchange is written by every student

c.JupyterHub.ip = os.environ.get("CURSO_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("CURSO_HUB_PUERTO", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("CURSO_HUB_PUERTO_INTERNO", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('CURSO_HUB_PUERTO_PROXY', '8001')}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ.get("CURSO_HUB_CLAVE", "")
c.SharedPasswordAuthenticator.admin_password = os.environ.get("CURSO_HUB_CLAVE_PROFESORA", "")
c.Authenticator.allowed_users = STUDENTS
c.Authenticator.admin_users = {INSTRUCTOR}

c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = str(HOMES / "{username}")
# this environment's single-user server: the course's versions, the nbgrader extensions
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
# Jupyter servers refuse to run as root unless told (a hub started as root, in a container or CI)
c.Spawner.args = ["--allow-root"] if os.geteuid() == 0 else []
c.Spawner.default_url = "/lab/tree/curso-mlops/notebooks/00-bienvenida.ipynb"
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 120
c.Spawner.environment = {"PYTHONWARNINGS": "ignore"}


def prepare_home(spawner) -> None:
    """Give the student the course (never overwriting) and nbgrader's shared exchange."""
    home = Path(spawner.home_dir)
    course = home / COURSE_ID
    (home / ".jupyter").mkdir(parents=True, exist_ok=True)
    if not (course / "notebooks").is_dir():
        shutil.copytree(ROOT / "notebooks", course / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    workspace.prepare(ROOT / "exercises", course / "trabajo")
    config = home / ".jupyter" / "nbgrader_config.py"
    if not config.exists():
        config.write_text(f"c = get_config()\nc.Exchange.root = {str(EXCHANGE)!r}\n"
                          f"c.CourseDirectory.course_id = {COURSE_ID!r}\n", encoding="utf-8")
    spawner.environment = {**spawner.environment, "HOME": str(home),
                           "JUPYTER_CONFIG_DIR": str(home / ".jupyter")}


c.Spawner.pre_spawn_hook = prepare_home

# a service token for scripts and tests (CURSO_HUB_TOKEN_SERVICIO), with admin rights on users
if os.environ.get("CURSO_HUB_TOKEN_SERVICIO"):
    c.JupyterHub.services = [{"name": "taller", "api_token": os.environ["CURSO_HUB_TOKEN_SERVICIO"]}]
    c.JupyterHub.load_roles = [{"name": "taller", "services": ["taller"],
                                "scopes": ["admin:users", "admin:servers", "tokens",
                                           "access:servers"]}]
