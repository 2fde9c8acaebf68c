"""The workshop on one server: JupyterHub with despliegue/jupyterhub_config.py, on loopback.

The hub, its proxy (configurable-http-proxy from `make proxy`) and each student's server run
for real. A student logs in through the login form with the class password, her server is
started, and through the hub (the same OAuth dance a browser does) she finds her copy of the
course and the theme the instructor released to the shared exchange.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time

import pytest

from conftest import ROOT

PROXY = ROOT / "despliegue" / "node_modules" / ".bin" / "configurable-http-proxy"
if not PROXY.exists():
    pytest.skip("falta configurable-http-proxy para JupyterHub: make proxy (necesita npm)",
                allow_module_level=True)
pytest.importorskip("jupyterhub", reason="falta JupyterHub: pip install -e '.[test]'")
httpx = pytest.importorskip("httpx")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hub")]

THEME = "00-introduccion"
COURSE = "curso-mlops"
STUDENTS = ("ana", "bruno")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    state = tmp_path_factory.mktemp("hub")
    port, hub_port, api_port = _free_ports(3)
    password, token = secrets.token_urlsafe(12), secrets.token_hex(16)
    env = {**os.environ, "CURSO_HUB_ESTADO": str(state), "CURSO_HUB_ALUMNOS": ",".join(STUDENTS),
           "CURSO_HUB_CLAVE": password, "CURSO_HUB_CLAVE_PROFESORA": secrets.token_urlsafe(32),
           "CURSO_HUB_TOKEN_SERVICIO": token, "CURSO_HUB_PUERTO": str(port),
           "CURSO_HUB_PUERTO_INTERNO": str(hub_port), "CURSO_HUB_PUERTO_PROXY": str(api_port),
           "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]),
           "PYTHONWARNINGS": "ignore"}
    # the instructor releases a theme to the hub's shared exchange
    course = state / "profesora" / COURSE
    course.mkdir(parents=True)
    shutil.copy2(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / THEME, course / "solutions" / THEME)
    for step in (["generate_assignment", THEME], ["release_assignment", THEME]):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *step,
                               f"--Exchange.root={state / 'intercambio'}",
                               f"--CourseDirectory.course_id={COURSE}"],
                              cwd=course, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    log = open(state / "hub.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f",
                             str(ROOT / "despliegue" / "jupyterhub_config.py")],
                            cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/hub/api/", timeout=3).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterHub no arrancó:\n{(state / 'hub.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"url": url, "password": password, "token": token, "state": state}
    finally:
        for sig, wait in ((15, 30), (9, 10)):
            try:
                os.killpg(proc.pid, sig)
                proc.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        log.close()


def _login(hub, user: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=hub["url"], timeout=30)
    client.get("/hub/login")
    reply = client.post("/hub/login", data={"username": user, "password": password,
                                             "_xsrf": client.cookies.get("_xsrf", "")})
    client.logged_in = reply.status_code == 302 and "jupyterhub-session-id" in client.cookies
    return client


def test_only_listed_students_with_the_class_password_log_in(hub):
    assert _login(hub, "ana", hub["password"]).logged_in
    assert not _login(hub, "ana", "otra-clave").logged_in
    assert not _login(hub, "mallory", hub["password"]).logged_in, "entró alguien fuera de la lista"


def test_student_finds_her_course_and_the_released_assignment(hub):
    client = _login(hub, "ana", hub["password"])
    assert client.logged_in
    admin = {"Authorization": f"token {hub['token']}"}
    started = httpx.post(f"{hub['url']}/hub/api/users/ana/server", headers=admin, timeout=60)
    assert started.status_code in (201, 202), started.text
    deadline = time.monotonic() + 120
    while not httpx.get(f"{hub['url']}/hub/api/users/ana", headers=admin,
                        timeout=10).json()["servers"].get("", {}).get("ready"):
        assert time.monotonic() < deadline, (hub["state"] / "hub.log").read_text()[-3000:]
        time.sleep(1)

    # her browser opens the lab: the hub's OAuth redirects give it the server's cookies
    page = client.get("/user/ana/lab", follow_redirects=True)
    assert page.status_code == 200 and "JupyterLab" in page.text, page.status_code
    xsrf = next(c.value for c in client.cookies.jar if c.name == "_xsrf" and "/user/ana" in c.path)

    def get(path):  # as JupyterLab's own requests: her cookies and the XSRF header
        reply = client.get(f"/user/ana/{path}", headers={"X-XSRFToken": xsrf})
        assert reply.status_code == 200, f"{path}: {reply.status_code}"
        return reply.json()

    work = get(f"api/contents/{COURSE}/trabajo")
    themes = sorted(item["name"] for item in work["content"] if item["type"] == "directory")
    assert themes == sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())
    assert get(f"api/contents/{COURSE}/notebooks/00-bienvenida.ipynb?content=0")["type"] == "notebook"
    listed = get(f"assignments?course_id={COURSE}")
    assert listed["success"], listed
    released = {(a["assignment_id"], a["status"]) for a in listed["value"]}
    assert (THEME, "released") in released, listed["value"]
    # bruno's home was not created: servers start only for those who log in
    assert not (hub["state"] / "hogares" / "bruno").exists()
