"""Write values back into `gsync.toml` with tomlkit, keeping the user's comments and layout.

Used by `gsync form create` / `update` to record a school's form id and question ids. The edited
text is validated as a configuration before it replaces the file, and the replacement is atomic.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from gsync.config import parse_config
from gsync.errors import ConfigError

_UNSET: Any = object()


def _school_table(doc: tomlkit.TOMLDocument, path: Path, school_name: str) -> Table:
    schools = doc.get("schools")
    if isinstance(schools, AoT | list):
        for table in schools:
            if str(table.get("name", "")).casefold() == school_name.casefold():
                return table
    raise ConfigError(
        f"{path}: no [[schools]] entry named {school_name!r} to update.",
        fix="check the school's name in the configuration.",
    )


def set_school_fields(
    config_path: str | Path,
    school_name: str,
    *,
    form_id: str | None = _UNSET,
    form_questions: dict[str, str] | None = _UNSET,
) -> None:
    """Set `form_id` and/or `form_questions` of one school in the config file, keeping comments.

    Passing None removes the key. `form_questions` is written as a `[schools.form_questions]`
    sub-table under the school's `[[schools]]` entry, in the order given.
    """
    path = Path(config_path)
    doc = _parse(path)
    table = _school_table(doc, path, school_name)
    if form_id is not _UNSET:
        if form_id is None:
            table.pop("form_id", None)
        else:
            table["form_id"] = form_id
    if form_questions is not _UNSET:
        table.pop("form_questions", None)
        if form_questions:
            sub = tomlkit.table()
            for key, qid in form_questions.items():
                sub[key] = qid
            sub.add(tomlkit.nl())  # keep a blank line before the next table
            table["form_questions"] = sub
    _write(doc, path)


def set_round_fields(
    config_path: str | Path,
    school_name: str,
    round_key: str,
    *,
    form_id: str | None = _UNSET,
    form_questions: dict[str, str] | None = _UNSET,
) -> None:
    """Set a school's form for one survey round (`[schools.rounds.KEY]`), keeping comments."""
    path = Path(config_path)
    doc = _parse(path)
    table = _school_table(doc, path, school_name)
    rounds = table.get("rounds")
    if not isinstance(rounds, Table):
        rounds = tomlkit.table(is_super_table=True)
        table["rounds"] = rounds
    entry = rounds.get(round_key)
    if not isinstance(entry, Table):
        entry = tomlkit.table()
        rounds[round_key] = entry
    if form_id is not _UNSET:
        if form_id is None:
            entry.pop("form_id", None)
        else:
            entry["form_id"] = form_id
    if form_questions is not _UNSET:
        entry.pop("form_questions", None)
        if form_questions:
            entry["form_questions"] = tomlkit.inline_table()
            entry["form_questions"].update(form_questions)
    _write(doc, path)


def _parse(path: Path) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except (OSError, tomlkit.exceptions.ParseError) as exc:
        raise ConfigError(
            f"{path}: could not be read for updating ({type(exc).__name__}).",
            fix="check the file exists and is valid TOML.",
        ) from None


def _write(doc: tomlkit.TOMLDocument, path: Path) -> None:
    """Validate the edited document as a configuration, then replace the file atomically."""
    text = tomlkit.dumps(doc)
    parse_config(tomllib.loads(text), str(path))  # never write a file gsync cannot read back
    fd, tmp = tempfile.mkstemp(prefix=".gsync-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def set_trust_fields(config_path: str | Path, *, spreadsheet_id: str | None = _UNSET) -> None:
    """Set `trust.spreadsheet_id` in the config file (None removes it), keeping comments."""
    path = Path(config_path)
    doc = _parse(path)
    trust = doc.get("trust")
    if not isinstance(trust, Table):
        raise ConfigError(
            f"{path}: no [trust] table to update.", fix="add a [trust] table with a name."
        )
    if spreadsheet_id is not _UNSET:
        if spreadsheet_id is None:
            trust.pop("spreadsheet_id", None)
        else:
            trust["spreadsheet_id"] = spreadsheet_id
    _write(doc, path)
