"""Turning pydantic validation errors into lines that name the file, the key and the fix.

Shared by every loader of a user-edited file (gsync.toml, form specs, rules, taxonomy, template).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError


def key_path(loc: tuple[Any, ...]) -> str:
    """A pydantic location as the key a user sees: ('schools', 0, 'urn') -> 'schools[0].urn'."""
    parts: list[str] = []
    for piece in loc:
        if isinstance(piece, int):
            parts[-1] = f"{parts[-1]}[{piece}]" if parts else f"[{piece}]"
        else:
            parts.append(str(piece))
    return ".".join(parts)


def error_lines(
    exc: ValidationError,
    source: str,
    locate: Callable[[tuple[Any, ...]], str] = key_path,
) -> list[str]:
    """One line per error: unknown keys, missing keys and bad values, each naming its key."""
    lines: list[str] = []
    for err in exc.errors():
        key = locate(tuple(err["loc"])) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{key}' (remove it or check its spelling)")
        elif err["type"] == "missing":
            lines.append(f"{source}: missing key '{key}' (add it)")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{source}: key '{key}': {msg}")
    return lines
