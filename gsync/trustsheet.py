"""`gsync sheet init`: create the trust spreadsheet from the template, or upgrade one in place.

Upgrading adds missing tabs and missing columns (at the right-hand end of the tab) and never drops
or moves data. Everything goes in one atomic batchUpdate with the template version recorded in the
state tab.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gsync.sheetio import STATE_TAB, Snapshot, WritePlan, _norm_header, _runs

#: Values a column type allows when the template gives no list.
TYPE_CHOICES: dict[str, tuple[str, ...]] = {"flag": ("Y", "N"), "send": ("K", "E", "N")}
ATTENTION = {"red": 0.98, "green": 0.85, "blue": 0.82}
DONE = {"red": 0.85, "green": 0.94, "blue": 0.85}
TITLE_PREFIX = "CEIAG Metrics & Destinations"


@dataclass
class InitResult:
    """What `sheet init` did (or would do, with --dry-run)."""

    spreadsheet_id: str
    created: bool = False
    tabs_added: list[str] = field(default_factory=list)
    columns_added: dict[str, list[str]] = field(default_factory=dict)
    template_version: int = 0
    previous_version: str = ""
    requests: int = 0
    changes: list[str] = field(default_factory=list)


def column_choices(column: Any, resolve: Callable[[str], Sequence[str]] | None) -> tuple[str, ...]:
    """The drop-down values of a column: its own list, a list from a named source, or its type's."""
    choices = getattr(column, "choices", None)
    if choices:
        return tuple(choices)
    source = getattr(column, "choices_from", None)
    if source and resolve is not None:
        return tuple(resolve(source))
    return TYPE_CHOICES.get(getattr(column, "type", ""), ())


def column_requests(
    sheet_id: int, index: int, column: Any, resolve: Callable[[str], Sequence[str]] | None
) -> list[dict[str, Any]]:
    """Validation and visibility for one column (rows 2 onwards)."""
    out: list[dict[str, Any]] = []
    rng = {
        "sheetId": sheet_id,
        "startRowIndex": 1,
        "startColumnIndex": index,
        "endColumnIndex": index + 1,
    }
    choices = column_choices(column, resolve)
    if choices:
        out.append(
            {
                "setDataValidation": {
                    "range": rng,
                    "rule": {
                        "condition": {
                            "type": "ONE_OF_LIST",
                            "values": [{"userEnteredValue": v} for v in choices],
                        },
                        "showCustomUi": True,
                        # Not strict: a typed value is kept (and flagged by the sync), never lost.
                        "strict": False,
                        "inputMessage": "Choose from the list",
                    },
                }
            }
        )
    if getattr(column, "hidden", False):
        out.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": index,
                        "endIndex": index + 1,
                    },
                    "properties": {"hiddenByUser": True},
                    "fields": "hiddenByUser",
                }
            }
        )
    return out


def protection_requests(
    sheet_id: int, title: str, positions: Sequence[int]
) -> list[dict[str, Any]]:
    """Warning-only protection over the sync-owned columns (staff can still edit, after a warning)."""
    return [
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {
                        "sheetId": sheet_id,
                        "startRowIndex": 1,
                        "startColumnIndex": start,
                        "endColumnIndex": end,
                    },
                    "description": f"gsync writes these cells in '{title}'; edits are kept but flagged",
                    "warningOnly": True,
                }
            }
        }
        for start, end in _runs(positions)
    ]


def attention_requests(sheet_id: int, tab: Any, layout: dict[str, int]) -> list[dict[str, Any]]:
    """Conditional formatting for what needs a person."""
    rules: list[dict[str, Any]] = []

    def add(col: str, kind: str, value: str, colour: dict[str, float]) -> None:
        if col not in layout:
            return
        idx = layout[col]
        rules.append(
            {
                "addConditionalFormatRule": {
                    "index": 0,
                    "rule": {
                        "ranges": [
                            {
                                "sheetId": sheet_id,
                                "startRowIndex": 1,
                                "startColumnIndex": idx,
                                "endColumnIndex": idx + 1,
                            }
                        ],
                        "booleanRule": {
                            "condition": {"type": kind, "values": [{"userEnteredValue": value}]},
                            "format": {"backgroundColor": colour},
                        },
                    },
                }
            }
        )

    key = getattr(tab, "key", "")
    if key == "exceptions":
        add("status", "TEXT_EQ", "open", ATTENTION)
        add("status", "TEXT_EQ", "resolved", DONE)
    elif key == "destinations":
        for col in layout:
            if col.endswith("_source"):
                add(col, "TEXT_CONTAINS", "unknown", ATTENTION)
        add("do_not_contact", "TEXT_EQ", "Y", ATTENTION)
    elif key == "reconciliation":
        add("verdict", "TEXT_CONTAINS", "disagree", ATTENTION)
        add("verdict", "TEXT_EQ", "agree", DONE)
    elif key == "dfe_measures":
        add("flag", "TEXT_STARTS_WITH", "differs", ATTENTION)
    elif key == "deadlines":
        add("state", "TEXT_EQ", "overdue", ATTENTION)
        add("state", "TEXT_EQ", "complete", DONE)
    return rules


def state_formatting(sheet_id: int, header: Sequence[Any]) -> list[dict[str, Any]]:
    """Highlighting for a derived tab with a deadline `state` column (Deadlines, Compliance)."""

    @dataclass
    class _Tab:
        key: str = "deadlines"

    layout = {str(name): i for i, name in enumerate(header)}
    return attention_requests(sheet_id, _Tab(), layout)


def plan_init(
    snapshot: Snapshot,
    template: Any,
    resolve: Callable[[str], Sequence[str]] | None = None,
) -> tuple[WritePlan, InitResult]:
    """Plan the creation or upgrade of every template tab; nothing existing is moved or dropped."""
    plan = WritePlan(snapshot)
    result = InitResult(
        spreadsheet_id=snapshot.spreadsheet_id, template_version=int(template.version)
    )
    result.previous_version = snapshot.state.get("template_version", "")
    for tab in template.tabs:
        if tab.title == STATE_TAB:
            continue  # the state tab is rewritten by every write (see sheetio.apply_plan)
        columns = list(tab.columns)
        if not snapshot.has(tab.title):
            sheet_id = plan.add_tab(
                tab.title,
                rows=1000,
                cols=max(len(columns), 1),
                hidden=bool(getattr(tab, "hidden", False)),
                frozen_rows=1,
            )
            layout = {c.key: i for i, c in enumerate(columns)}
            plan.write_rows(tab.title, 0, 0, [[c.header for c in columns]])
            plan.extend(
                [
                    {
                        "repeatCell": {
                            "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
                            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                            "fields": "userEnteredFormat.textFormat.bold",
                        }
                    }
                ]
            )
            for i, c in enumerate(columns):
                plan.extend(column_requests(sheet_id, i, c, resolve))
            plan.extend(
                protection_requests(
                    sheet_id, tab.title, [i for i, c in enumerate(columns) if c.owner == "sync"]
                )
            )
            plan.extend(attention_requests(sheet_id, tab, layout))
            result.tabs_added.append(tab.title)
            continue
        info = snapshot.tabs[tab.title]
        grid = snapshot.grid(tab.title)
        header = grid[0] if grid else []
        present = {_norm_header(h) for h in header if h}
        missing = [
            c
            for c in columns
            if _norm_header(c.header) not in present and _norm_header(c.key) not in present
        ]
        if not missing:
            continue
        start = len(header)
        plan.write_rows(tab.title, 0, start, [[c.header for c in missing]])
        for offset, c in enumerate(missing):
            plan.extend(column_requests(info.sheet_id, start + offset, c, resolve))
        plan.extend(
            protection_requests(
                info.sheet_id,
                tab.title,
                [start + o for o, c in enumerate(missing) if c.owner == "sync"],
            )
        )
        result.columns_added[tab.title] = [c.header for c in missing]
        plan.changes.append(f"'{tab.title}': add column(s) {', '.join(c.header for c in missing)}")
    template_titles = {t.title for t in template.tabs}
    for title, info in snapshot.tabs.items():
        # A new spreadsheet's empty default tab ("Sheet1") goes once the template's tabs exist.
        if (
            len(snapshot.tabs) == 1
            and title not in template_titles
            and not snapshot.grid(title)
            and result.tabs_added
        ):
            plan.extend(
                [{"deleteSheet": {"sheetId": info.sheet_id}}],
                f"remove the empty default tab '{title}'",
            )
    if result.previous_version != str(result.template_version):
        plan.force = True  # at least record the template version in the state tab
    result.requests = len(plan.requests)
    result.changes = list(plan.changes)
    return plan, result
