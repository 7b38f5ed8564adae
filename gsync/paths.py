"""Where the shipped specs live: the repository's top-level folders, or the wheel's copies."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name  # inside a wheel (see pyproject force-include)
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name  # a source checkout or an editable install


def forms_dir() -> Path:
    """The folder of the shipped form specs (Form A and its variants)."""
    return _data_dir("forms")


def templates_dir() -> Path:
    """The folder of the shipped spreadsheet templates and rules files."""
    return _data_dir("sheets_templates")
