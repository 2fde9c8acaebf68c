"""curso-mlops: the course's own helpers (data, feedback for exercises, grading, tooling).

Notebooks import from here only what would distract from the lesson.
"""

__version__ = "0.1.0"
