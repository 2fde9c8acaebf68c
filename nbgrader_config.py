"""nbgrader for this course: solutions/ is the source, exercises/ the release.

One assignment per theme folder: solutions/01-deriva/01-deriva.ipynb is released as
exercises/01-deriva/01-deriva.ipynb. Regenerate the release with `make ejercicios` only.
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

# the folder of this file, absolute: the course works from wherever JupyterLab was started
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".DS_Store"]

# Stubs and messages the learner sees, in Spanish
c.ClearSolutions.code_stub = {"python": "# TU CÓDIGO AQUÍ\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "TU RESPUESTA AQUÍ"
c.ClearHiddenTests.begin_test_delimeter = "BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "END HIDDEN TESTS"

# Grading: a learner's infinite loop costs at most this per cell; a deleted test cell is put back
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.OverwriteCells.add_missing_cells = True
