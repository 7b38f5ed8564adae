"""Google's partial-response ``fields`` syntax: ``a,b(c,d/e),f/g``, ``*`` for everything
(``a.b`` is accepted as ``a/b``, as the Sheets API does).

Used by the server on every JSON answer (the standard ``fields`` parameter) and by handlers
that take a FieldMask (``updateSheetProperties.fields``, ``updateCells.fields``).
"""

from __future__ import annotations

import re
from typing import Any

from gsync.emulator.core import invalid

# A parsed mask: field name -> sub-mask; None means "this whole field".
Mask = dict[str, "Mask | None"]


def parse(text: str) -> Mask:
    """Parse a fields expression into a tree; malformed → 400 like Google."""
    mask, pos = _parse_list(text.replace(" ", ""), 0, text)
    if pos != len(text.replace(" ", "")):
        raise invalid(f"Invalid field selection {text}")
    return mask


def _parse_list(text: str, pos: int, original: str) -> tuple[Mask, int]:
    mask: Mask = {}
    while True:
        start = pos
        while pos < len(text) and text[pos] not in ",()":
            pos += 1
        path = text[start:pos]
        if not path:
            raise invalid(f"Invalid field selection {original}")
        sub: Mask | None = None
        if pos < len(text) and text[pos] == "(":
            sub, pos = _parse_list(text, pos + 1, original)
            if pos >= len(text) or text[pos] != ")":
                raise invalid(f"Invalid field selection {original}")
            pos += 1
        _merge_path(mask, re.split(r"[/.]", path), sub)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return mask, pos


def _merge_path(mask: Mask, parts: list[str], sub: Mask | None) -> None:
    head, rest = parts[0], parts[1:]
    if not head:
        raise invalid("Invalid field selection: empty field name")
    if rest:
        existing = mask.get(head, {})
        if existing is None:
            return  # already selecting the whole field
        if head not in mask:
            mask[head] = existing
        _merge_path(existing, rest, sub)
    elif sub is None:
        mask[head] = None
    else:
        existing = mask.get(head, {})
        if existing is None:
            return
        existing.update(sub)
        mask[head] = existing


def apply(value: Any, mask: Mask | None) -> Any:
    """Keep only the masked fields of a JSON value (lists are filtered element by element)."""
    if mask is None or ("*" in mask and mask["*"] is None):
        return value
    if isinstance(value, list):
        if len(mask) == 1 and "*" not in mask:
            # fast path for the common one-field selection over long lists (grid rows, cells)
            ((key, sub),) = mask.items()
            if sub is None:
                return [
                    (v if len(v) == 1 and key in v else {key: v[key]} if key in v else {})
                    if isinstance(v, dict)
                    else apply(v, mask)  # a nested list is filtered too; scalars pass
                    for v in value
                ]
            return [
                ({key: apply(v[key], sub)} if key in v else {})
                if isinstance(v, dict)
                else apply(v, mask)
                for v in value
            ]
        return [apply(v, mask) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, sub in mask.items():
        if key == "*":
            for k, v in value.items():
                out[k] = apply(v, sub)
        elif key in value:
            out[key] = apply(value[key], sub)
    return out


def filter_fields(value: Any, fields: str | None) -> Any:
    """``apply(value, parse(fields))``, or the value as is when no mask is given."""
    if not fields:
        return value
    return apply(value, parse(fields))


def paths(text: str) -> list[str]:
    """A FieldMask string (``"title,gridProperties.rowCount"``) as a list of dotted paths."""
    if text.strip() == "*":
        return ["*"]
    return [p.strip() for p in text.split(",") if p.strip()]
