"""The course in a real browser: JupyterLab started by the course's own lab command.

Headless Chromium from the system's packages (/usr/bin/chromium), driven by Playwright. The
lab runs on a copy of the repository in a temporary folder, with a temporary HOME and Jupyter
config, so a learner's real ``trabajo/`` is never touched. Screenshots go to
``build/navegador/`` (ignored by git). The lab command is read from the Makefile (``make -n
lab``), so whichever notebook it opens is the one the test starts from.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest

from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("falta Chromium del sistema (/usr/bin/chromium): apt-get install chromium",
                allow_module_level=True)
playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="falta Playwright para Python: pip install -e '.[test]'")

pytestmark = [pytest.mark.navegador, pytest.mark.slow, pytest.mark.xdist_group("navegador")]

ARTEFACTS = ROOT / "build" / "navegador"
THEME = "01-deriva"          # the theme with a slider wired to a plot and Mermaid diagrams
GRADED = "00-introduccion"   # the instructor's side grades a submission of this one by hand
MANUAL_ID = "ej00-1-2-respuesta-90-segundos"
COURSE = "curso-mlops"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
WIDGET_ERRORS = ("Error displaying widget", "model not found")
KERNEL_ERRORS = ("Error Starting Kernel", "Kernel Restarting", "The kernel has died",
                 "Dead kernel", "Kernel died")
CURRENT = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the active tab
# what `make lab` needs of the repository; the copy leaves out .venv, .git and any trabajo/
COURSE_FILES = ("Makefile", "pyproject.toml", "README.md", "nbgrader_config.py", "requirements",
                "src", "datasets", "notebooks", "exercises", "solutions")
COPY_IGNORE = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.egg-info")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_notebook(make_args: list[str], course: Path) -> str:
    """The notebook the course's lab command opens, read from ``make -n lab``."""
    plan = subprocess.run(["make", "-s", "-n", *make_args, "lab"], cwd=course, capture_output=True,
                          text=True, check=True).stdout
    line = [ln for ln in plan.splitlines() if "jupyter lab" in ln][-1]
    return [w for w in shlex.split(line) if w.endswith(".ipynb")][-1]


def _nbgrader(args: list[str], course: Path, env: dict) -> None:
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"nbgrader {args[0]}:\n{(done.stdout + done.stderr)[-3000:]}"


def _stop(proc: subprocess.Popen) -> None:
    """Stop make, JupyterLab and its kernels: the process group this test started."""
    for sig, wait in ((15, 20), (9, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab from ``make lab`` on a copy of the course, with an instructor's course in it."""
    base = tmp_path_factory.mktemp("navegador")
    course = base / "curso"
    course.mkdir()
    for name in COURSE_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, course / name, ignore=COPY_IGNORE, symlinks=True)
        else:
            shutil.copy2(ROOT / name, course / name)
    home, exchange = base / "home", base / "exchange"
    (home / ".jupyter").mkdir(parents=True)
    exchange.mkdir()
    exchange.chmod(0o777)
    # where the assignment list finds released themes (a workshop's shared exchange)
    (home / ".jupyter" / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE!r}\n", encoding="utf-8")
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
           "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
           "JUPYTER_RUNTIME_DIR": str(home / ".local/share/jupyter/runtime"),
           # the course package is imported from the copy, so `make trabajo` fills the copy's
           "PYTHONPATH": str(course / "src"),
           "PATH": os.pathsep.join([str(venv_bin), os.environ["PATH"]]),
           "PYTHONWARNINGS": "ignore"}
    # the instructor's side: one theme released to the exchange, one submission to grade
    _nbgrader(["generate_assignment", GRADED, "--force"], course, env)
    _nbgrader(["release_assignment", GRADED, "--force"], course, env)
    submitted = course / "submitted" / "ana" / GRADED
    submitted.mkdir(parents=True)
    shutil.copy2(course / "solutions" / GRADED / f"{GRADED}.ipynb", submitted)
    _nbgrader(["autograde", GRADED, "--create"], course, env)

    port, token = _free_port(), secrets.token_hex(16)
    lab_args = [f"--port={port}", "--no-browser", "--ServerApp.ip=127.0.0.1",
                f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        lab_args.append("--allow-root")
    # the course's own command, with this environment (its venv) instead of a new one
    make_args = [f"VENV={venv_bin.parent}", f"LAB_ARGS={shlex.join(lab_args)}"]
    # -o: never reinstall the environment from a copy (that would repoint its editable install)
    make_args.insert(0, f"--old-file={venv_bin.parent / '.instalado'}")
    notebook = _lab_notebook(make_args, course)
    log = open(base / "lab.log", "w")
    proc = subprocess.Popen(["make", *make_args, "lab"], cwd=course, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    runtime = home / ".local/share/jupyter/runtime"
    try:
        deadline = time.monotonic() + 120
        while True:
            # the server's own record says where it listens and which folder it serves
            found = list(runtime.glob("jpserver-*.json"))
            if found:
                try:
                    info = json.loads(found[0].read_text(encoding="utf-8"))
                except ValueError:  # being written
                    info = {}
                if info.get("url"):
                    url = f"http://127.0.0.1:{info['port']}"
                    try:
                        urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5)
                        break
                    except OSError:
                        pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab no arrancó:\n{(base / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        # every link must resolve inside the folder the lab serves
        opened = os.path.relpath(course / notebook, info["root_dir"])
        assert not opened.startswith(".."), f"{notebook} queda fuera de {info['root_dir']}"
        yield {"url": url, "token": token, "course": course, "notebook": opened,
               "root": Path(info["root_dir"]), "env": env}
    finally:
        _stop(proc)
        log.close()


@pytest.fixture(scope="module")
def page(lab):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_sync.sync_playwright() as p:
        # Playwright gives each launch a new, empty profile (its own --user-data-dir)
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        pg.set_default_timeout(60_000)
        try:
            yield pg
        finally:
            context.close()
            browser.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"))


def _open(page, lab, path: str) -> None:
    page.goto(f"{lab['url']}/lab/tree/{quote(path)}?token={lab['token']}")
    page.locator(f"{CURRENT} .jp-Cell").first.wait_for()
    _wait_idle(page)


def _wait_idle(page, timeout: float = 120) -> None:
    """Wait until the current notebook's kernel is idle and no cell is waiting to run."""
    page.wait_for_function(
        """() => {
            const w = window.jupyterapp.shell.currentWidget;
            const k = w && w.sessionContext && w.sessionContext.session &&
                      w.sessionContext.session.kernel;
            const busy = document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt');
            const pending = [...busy].some(e => e.textContent.includes('*'));
            return k && k.status === 'idle' && !pending;
        }""", timeout=timeout * 1000)


def _command(page, command: str) -> None:
    """Run a JupyterLab command (what its menu item does) once its extension has loaded."""
    page.wait_for_function(
        f"() => window.jupyterapp && window.jupyterapp.commands.hasCommand('{command}')")
    # after the lab has restored its layout, or the restore would close what the command opens
    page.evaluate(f"async () => {{ await window.jupyterapp.restored; "
                  f"await window.jupyterapp.commands.execute('{command}'); }}")


def _no_kernel_or_widget_errors(page) -> None:
    text = page.locator("body").inner_text()
    for problem in (*KERNEL_ERRORS, *WIDGET_ERRORS):
        assert problem not in text, f"la página muestra «{problem}»"


def _run_command_bounded(page, command: str, seconds: int = 300) -> None:
    """Run a notebook command and wait for its cells, failing (not hanging) past ``seconds``."""
    page.evaluate(f"""() => Promise.race([
        window.jupyterapp.commands.execute('{command}'),
        new Promise((_, fail) => setTimeout(
            () => fail(new Error('{command}: más de {seconds} s')), {seconds * 1000}))])""")


def _run_all_past_exercises(page) -> int:
    """Run all cells, then go on after each unanswered exercise's failing test; its count."""
    stops = 0
    _run_command_bounded(page, "notebook:run-all-cells")
    while True:
        _wait_idle(page)
        index = page.evaluate("""() => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            const cells = nb.widgets;
            let last = -1;
            cells.forEach((c, i) => {
                if (c.model.type === 'code' && c.model.sharedModel.getOutputs()
                        .some(o => o.output_type === 'error')) last = i;
            });
            return [last, cells.length];
        }""")
        last, count = index
        if last < 0 or last + 1 >= count or stops > 40:
            return stops
        executed_after = page.evaluate(f"""() => {{
            const cells = window.jupyterapp.shell.currentWidget.content.widgets;
            return cells.slice({last + 1}).some(
                c => c.model.type === 'code' && c.model.executionCount);
        }}""")
        if executed_after:
            return stops
        stops += 1
        page.evaluate(f"""() => {{
            const nb = window.jupyterapp.shell.currentWidget.content;
            nb.activeCellIndex = {last + 1};
        }}""")
        _run_command_bounded(page, "notebook:run-all-below")


def test_welcome_links_resolve(lab):
    """Every link from the welcome notebook to another notebook opens in the lab."""
    welcome = nbformat.read(lab["root"] / lab["notebook"], as_version=4)
    links = {m for c in welcome.cells if c.cell_type == "markdown"
             for m in re.findall(r"\]\(([^)\s#]+\.ipynb)", c.source) if "://" not in m}
    assert links, "la bienvenida no enlaza ningún cuaderno"
    folder = Path(lab["notebook"]).parent
    broken = []
    for link in sorted(links):
        target = os.path.normpath(folder / link)
        if target.startswith(".."):
            broken.append(f"{link}: fuera de la carpeta que sirve JupyterLab ({lab['root']})")
            continue
        try:
            urllib.request.urlopen(f"{lab['url']}/api/contents/{quote(target)}?content=0"
                                   f"&token={lab['token']}", timeout=10)
        except OSError as exc:
            broken.append(f"{link} -> {target}: {exc}")
    assert not broken, "enlaces rotos en la bienvenida:\n" + "\n".join(broken)


def test_learner_follows_the_map_runs_a_theme_and_plays_with_it(lab, page):
    _open(page, lab, lab["notebook"])
    _shot(page, "01-bienvenida")
    # JupyterLab rewrites a relative link to /files/<path>?_xsrf=...; a click opens it in the lab
    link = page.locator(f".jp-RenderedMarkdown a[href*='{THEME}/{THEME}.ipynb']").first
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_function(
        f"() => window.jupyterapp.shell.currentWidget?.context?.path?.endsWith('{THEME}.ipynb')")
    current = page.evaluate("window.jupyterapp.shell.currentWidget.context.path")
    assert "trabajo/" in current or current.startswith("trabajo"), f"abrió {current}"
    page.locator(f"{CURRENT} .jp-Cell").first.wait_for()
    _wait_idle(page)

    stops = _run_all_past_exercises(page)
    _shot(page, "02-tema-ejecutado")
    _no_kernel_or_widget_errors(page)
    assert stops >= 1, "ninguna prueba visible falló en un ejercicio sin responder"
    # the first unanswered exercise's visible test speaks Spanish to the learner
    feedback = page.locator(f"{CURRENT} .jp-OutputArea-output", has_text="Todavía no has escrito").first
    feedback.scroll_into_view_if_needed()
    assert "sustituye la línea" in feedback.text_content()
    _shot(page, "03-retroalimentacion")

    # a Mermaid diagram, rendered by JupyterLab (as an SVG image); a syntax error would show a
    # warning block instead
    diagram = page.locator(f"{CURRENT} .jp-RenderedMermaid:not(.jp-mod-warning) :is(img, svg)").first
    diagram.scroll_into_view_if_needed()
    diagram.wait_for(state="visible")
    assert diagram.bounding_box()["height"] > 50, "el diagrama Mermaid no tiene tamaño"
    assert page.locator(f"{CURRENT} .jp-RenderedMermaid.jp-mod-warning").count() == 0, \
        "un diagrama Mermaid no se pudo dibujar"
    _shot(page, "04-mermaid")

    # the drift-magnitude slider redraws its plot
    slider = page.locator(f"{CURRENT} .widget-slider").first
    slider.scroll_into_view_if_needed()
    slider.wait_for(state="visible")
    _no_kernel_or_widget_errors(page)
    output = page.locator(f"{CURRENT} .widget-output img").first
    output.wait_for(state="visible")
    before = output.get_attribute("src")
    readout = page.locator(f"{CURRENT} .widget-slider .widget-readout").first.inner_text()
    handle = page.locator(f"{CURRENT} .widget-slider .noUi-handle").first
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 80, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    page.wait_for_function(
        """(before) => { const img = document.querySelector(
                             '.jp-NotebookPanel:not(.lm-mod-hidden) .widget-output img');
                         return img && img.getAttribute('src') !== before; }""",
        arg=before, timeout=60_000)
    assert page.locator(f"{CURRENT} .widget-slider .widget-readout").first.inner_text() != readout
    _shot(page, "05-control-movido")
    _no_kernel_or_widget_errors(page)
    # nbgrader's Validate button runs the notebook's tests on the server and reports them
    validate = page.locator(f"{CURRENT} .jp-Toolbar").get_by_text("Validate", exact=True)
    assert validate.count() == 1, "falta el botón Validate de nbgrader en la barra del cuaderno"
    validate.click()
    header = page.locator(".jp-Dialog .jp-Dialog-header")
    header.wait_for(timeout=240_000)
    page.wait_for_function("""() => {
        const h = document.querySelector('.jp-Dialog .jp-Dialog-header');
        return h && !h.textContent.includes('Validating'); }""", timeout=240_000)
    _shot(page, "06-validar")
    assert header.inner_text().strip() == "Validation Results", header.inner_text()
    # the untouched exercise fails its visible test, and says why in Spanish
    assert "Todavía no has escrito" in page.locator(".jp-Dialog .jp-Dialog-body").text_content()
    page.locator(".jp-Dialog .jp-Dialog-button").last.click()


def test_instructor_formgrader_lists_assignments_and_grades_by_hand(lab, page):
    page.goto(f"{lab['url']}/lab?token={lab['token']}")
    _command(page, "nbgrader:open-formgrader")
    frame = page.frame_locator("iframe").first
    frame.locator("text=01-deriva").first.wait_for()
    assert frame.locator(f"text={GRADED}").count() >= 1
    _shot(page, "07-formgrader")

    from nbgrader.api import Gradebook
    db = f"sqlite:///{lab['course'] / 'gradebook.db'}"
    with Gradebook(db) as gb:
        sub_id = gb.find_submission_notebook(GRADED, GRADED, "ana").id
    # the submission's page in the same formgrader panel, as its Manual Grading links open it
    panel = next(f for f in page.frames if "/formgrader" in f.url)
    panel.goto(f"{lab['url']}/formgrader/submissions/{sub_id}/")
    box = panel.locator(f"input.score#{MANUAL_ID}")
    box.wait_for()
    # the page saves a score on its change event once its scripts have loaded the grades
    panel.wait_for_load_state("networkidle")

    def saved() -> bool:
        with Gradebook(db) as gb:
            return gb.find_grade(MANUAL_ID, GRADED, GRADED, "ana").manual_score == 3.0

    deadline = time.monotonic() + 60
    while not saved():
        assert time.monotonic() < deadline, "la nota a mano no llegó al gradebook"
        box.fill("")   # a fresh change each round, in case the first came before the scripts
        box.fill("3")
        box.press("Tab")
        for _ in range(10):
            if saved():
                break
            time.sleep(0.5)
    _shot(page, "08-nota-a-mano")


def test_learner_assignment_list_shows_the_released_theme(lab, page):
    page.goto(f"{lab['url']}/lab?token={lab['token']}")
    _command(page, "nbgrader:open-assignment-list")
    page.locator(f"#released_assignments_list >> text={GRADED}").first.wait_for()
    _shot(page, "09-lista-de-tareas")
