# curso-mlops: one entry point for learners, instructors and CI.
#   make lab     crea el entorno si hace falta y abre el curso en JupyterLab
#   make test    crea el entorno si hace falta y ejecuta toda la suite de pruebas
# Las demás órdenes: make ayuda

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.instalado
CONSTRAINTS := requirements/constraints.txt
# nbgrader calls `alembic` and JupyterLab calls `jupyter-*` from PATH: use this environment's
export PATH := $(CURDIR)/$(BIN):$(PATH)
# JupyterLab refuses to run as root (containers, CI) unless told
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)
# JupyterLab serves only the folder of the notebook it opens unless told otherwise, and the
# welcome's links (../trabajo/NN-tema/NN-tema.ipynb) would point outside it: serve the course.
# `override` keeps it when LAB_ARGS is given on the command line.
override LAB_ARGS += --ServerApp.root_dir=$(CURDIR)
# pytest-xdist workers: one per core (CI has 2)
JOBS ?= auto

.DEFAULT_GOAL := ayuda
.PHONY: ayuda lab test comprobar progreso reiniciar entorno trabajo datos soluciones ejercicios plantilla benchmark \
        cuaderno bloquear

ayuda:
	@echo "make lab         abre el curso en JupyterLab (crea el entorno la primera vez)"
	@echo "make test        ejecuta toda la suite de pruebas (crea el entorno la primera vez)"
	@echo "make comprobar CUADERNO=trabajo/01-deriva/01-deriva.ipynb   tu nota, con las pruebas ocultas"
	@echo "make progreso    estado y nota de cada tema, e informe HTML (trabajo/progreso.html)"
	@echo "make reiniciar TEMA=01-deriva   copia nueva del tema; la tuya queda en trabajo/.copias/"
	@echo "make trabajo     copia a trabajo/ los cuadernos que aún no tengas (nunca sobrescribe)"
	@echo "$(BIN)/curso --help   la línea de órdenes completa (corregir una clase, exportar…)"
	@echo "make datos       regenera datasets/churn (deterministas; deben coincidir byte a byte)"
	@echo "make soluciones  re-ejecuta los cuadernos de solutions/ y guarda sus salidas"
	@echo "make ejercicios  regenera exercises/ desde solutions/ con nbgrader (única vía)"
	@echo "make plantilla   comprueba la forma de cada cuaderno de solución"
	@echo "make benchmark   segundos y memoria pico de cada cuaderno (soluciones y notebooks/)"
	@echo "make cuaderno DESDE=borrador.py TEMA=NN-tema   convierte un borrador jupytext"
	@echo "make bloquear    reescribe $(CONSTRAINTS) con las versiones del entorno actual"
	@echo "make proxy       instala el proxy de JupyterHub para un taller (despliegue/, con npm)"

entorno: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "error: hace falta Python 3.11 o posterior; '$(PYTHON)' es $$($(PYTHON) --version 2>&1)." \
	         "Instala uno más nuevo o indica cuál usar: make PYTHON=python3.12 ..."; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[test]"
	@touch $@

# the learner's copy of the welcome: running and saving it never touches a tracked file
lab: $(STAMP) trabajo
	$(BIN)/jupyter lab $(LAB_ARGS) trabajo/00-bienvenida.ipynb

trabajo: $(STAMP)
	$(BIN)/python -m curso_mlops.workspace

comprobar: $(STAMP)
	@test -n "$(CUADERNO)" || { echo "uso: make comprobar CUADERNO=trabajo/01-deriva/01-deriva.ipynb"; exit 2; }
	$(BIN)/curso comprobar "$(CUADERNO)"

progreso: $(STAMP)
	$(BIN)/curso progreso

reiniciar: $(STAMP)
	@test -n "$(TEMA)" || { echo "uso: make reiniciar TEMA=01-deriva"; exit 2; }
	$(BIN)/curso reiniciar "$(TEMA)"

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup \
	  --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout 120 \
	  tests solutions notebooks

datos: $(STAMP)
	$(BIN)/python -c 'from curso_mlops import datasets as d; d.generate("datasets/churn"); d.write_card_table("datasets/churn", "datasets/README.md")'

soluciones: $(STAMP)
	$(BIN)/python -m curso_mlops.authoring ejecutar

ejercicios: $(STAMP)
	$(BIN)/python -m curso_mlops.authoring publicar

plantilla: $(STAMP)
	$(BIN)/python -m curso_mlops.template

benchmark: $(STAMP)
	$(BIN)/python -m curso_mlops.benchmark

cuaderno: $(STAMP)
	@test -n "$(DESDE)" -a -n "$(TEMA)" || { echo "uso: make cuaderno DESDE=borrador.py TEMA=NN-tema"; exit 2; }
	$(BIN)/python -m curso_mlops.authoring convertir "$(DESDE)" "$(TEMA)"

bloquear: $(STAMP)
	@mkdir -p requirements
	{ echo "# Versiones exactas con las que pasó la suite (make bloquear). make las usa al instalar."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -viE '^(pip|setuptools|wheel)=='; } > $(CONSTRAINTS).tmp
	mv $(CONSTRAINTS).tmp $(CONSTRAINTS)

# configurable-http-proxy for the workshop hub (despliegue/jupyterhub_config.py), exact versions
.PHONY: proxy
proxy:
	npm ci --prefix despliegue --no-audit --no-fund --loglevel=error
