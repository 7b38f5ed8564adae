"""The spreadsheet edge without a server: parsing a read, mapping headers, planning minimal writes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gsync.errors import ConfigError, NotFoundError
from gsync.sheetio import STATE_TAB, Snapshot, TabInfo, WritePlan, cell, parse_snapshot, tab_frame


@dataclass(frozen=True)
class Col:
    key: str
    header: str
    owner: str = "sync"


@dataclass(frozen=True)
class Tab:
    key: str
    title: str
    columns: tuple[Col, ...]


TAB = Tab(
    "people",
    "People",
    (Col("upn", "UPN"), Col("dest", "Destination"), Col("note", "Staff note", "staff")),
)


def snap(grid: list[list[str]], rows: int = 100, cols: int = 10) -> Snapshot:
    info = TabInfo(sheet_id=7, title="People", index=0, rows=rows, cols=cols)
    return Snapshot("sid", "T", {"People": info}, {"People": grid})


def test_parse_snapshot_trims_and_reads_properties() -> None:
    body = {
        "properties": {"title": "CEIAG"},
        "sheets": [
            {
                "properties": {
                    "sheetId": 3,
                    "title": "People",
                    "index": 0,
                    "gridProperties": {"rowCount": 50, "columnCount": 4, "frozenRowCount": 1},
                },
                "data": [
                    {
                        "rowData": [
                            {
                                "values": [
                                    {"formattedValue": "UPN"},
                                    {"formattedValue": "Destination"},
                                ]
                            },
                            {"values": [{"formattedValue": "A1"}, {}, {"formattedValue": ""}]},
                            {},
                        ]
                    }
                ],
            },
            {
                "properties": {
                    "sheetId": 9,
                    "title": STATE_TAB,
                    "hidden": True,
                    "gridProperties": {},
                }
            },
        ],
    }
    s = parse_snapshot("sid", body)
    assert s.title == "CEIAG"
    assert s.tabs["People"].frozen_rows == 1 and s.tabs["People"].rows == 50
    assert s.grid("People") == [["UPN", "Destination"], ["A1"]]
    assert s.state_sheet_id == 9 and s.state == {}


def test_tab_frame_maps_moved_columns_and_keeps_extras() -> None:
    grid = [
        ["Staff note", "Extra", "UPN", "destination"],
        ["n1", "x", "U1", "College"],
        ["", "", "U2"],
    ]
    tf = tab_frame(snap(grid), TAB)
    assert tf.layout == {"note": 0, "Extra": 1, "upn": 2, "dest": 3}
    assert tf.frame["upn"].tolist() == ["U1", "U2"]
    assert tf.frame["dest"].tolist() == ["College", ""]
    assert tf.frame["Extra"].tolist() == ["x", ""]
    assert tf.missing == []


def test_tab_frame_reports_missing_columns_and_tabs() -> None:
    tf = tab_frame(snap([["UPN"]]), TAB)
    assert tf.missing == ["dest", "note"]
    with pytest.raises(NotFoundError, match="sheet init"):
        tab_frame(Snapshot("sid", "T", {}, {}), TAB)
    with pytest.raises(ConfigError, match="twice"):
        tab_frame(snap([["UPN", "upn"]]), TAB)


def test_update_frame_writes_only_changed_writable_cells() -> None:
    grid = [["UPN", "Destination", "Staff note"], ["U1", "College", "keep"], ["U2", "", ""]]
    old = tab_frame(snap(grid), TAB)
    new = old.frame.copy()
    new.loc[1, "dest"] = "Apprenticeship"
    new.loc[0, "note"] = "staff change the sync must not write"
    plan = WritePlan(snap(grid))
    written = plan.update_frame(old, new, writable={"upn", "dest"})
    assert written == 1
    (req,) = plan.requests
    uc = req["updateCells"]
    assert uc["start"] == {"sheetId": 7, "rowIndex": 2, "columnIndex": 1}
    assert uc["rows"] == [{"values": [{"userEnteredValue": {"stringValue": "Apprenticeship"}}]}]


def test_update_frame_appends_rows_and_grows_grid() -> None:
    grid = [["UPN", "Destination", "Staff note"], ["U1", "College", ""]]
    old = tab_frame(snap(grid, rows=2), TAB)
    extra = pd.DataFrame([{"upn": "U2", "dest": "=1+1", "note": ""}])
    new = pd.concat([old.frame, extra], ignore_index=True)
    plan = WritePlan(snap(grid, rows=2))
    plan.update_frame(old, new, writable={"upn", "dest"})
    kinds = [next(iter(r)) for r in plan.requests]
    assert kinds == ["appendDimension", "updateCells"]
    assert plan.requests[0]["appendDimension"]["length"] == 1
    values = plan.requests[1]["updateCells"]["rows"][0]["values"]
    assert values[1] == {"userEnteredValue": {"stringValue": "=1+1"}}


def test_update_frame_refuses_to_drop_rows() -> None:
    grid = [["UPN", "Destination", "Staff note"], ["U1", "", ""], ["U2", "", ""]]
    old = tab_frame(snap(grid), TAB)
    with pytest.raises(Exception, match="fewer rows"):
        WritePlan(snap(grid)).update_frame(old, old.frame.iloc[:1])


def test_unchanged_frame_plans_nothing() -> None:
    grid = [["UPN", "Destination", "Staff note"], ["U1", "College", "n"]]
    old = tab_frame(snap(grid), TAB)
    plan = WritePlan(snap(grid))
    assert plan.update_frame(old, old.frame.copy()) == 0
    assert plan.is_empty


def test_replace_tab_is_idempotent_and_clears_leftovers() -> None:
    grid = [["a", "b"], ["1", "2"], ["old", "row"]]
    plan = WritePlan(snap(grid))
    assert plan.replace_tab("People", [["a", "b"], [1, 2], ["old", "row"]]) is False
    assert plan.is_empty
    assert plan.replace_tab("People", [["a", "b"], [1, 3]]) is True
    # Only the rows that changed are written: row 2 (a new value) and row 3 (cleared).
    update = plan.requests[-1]["updateCells"]
    assert update["start"]["rowIndex"] == 1
    rows = update["rows"]
    assert len(rows) == 2 and rows[1]["values"] == [{}, {}]
    assert rows[0]["values"][1] == {"userEnteredValue": {"numberValue": 3}}


def test_replace_tab_writes_only_the_rows_that_changed() -> None:
    grid = [["h1", "h2", "h3"], *[[f"r{i}", str(i), ""] for i in range(1, 9)]]
    plan = WritePlan(snap(grid))
    new: list[list[object]] = [list(r) for r in grid]
    new[2][1] = "changed"  # row 3
    new[3][2] = "wider"  # row 4 (a cell beyond the old row's end)
    new[7][0] = "also"  # row 8
    new.append(["added", "", ""])  # row 10
    assert plan.replace_tab("People", new) is True
    writes = [r["updateCells"] for r in plan.requests if "updateCells" in r]
    assert [(w["start"]["rowIndex"], len(w["rows"])) for w in writes] == [(2, 2), (7, 1), (9, 1)]
    assert all(w["start"]["columnIndex"] == 0 for w in writes)
    assert all(len(row["values"]) == 3 for w in writes for row in w["rows"])
    assert writes[0]["rows"][1]["values"][2] == {"userEnteredValue": {"stringValue": "wider"}}
    assert not any("appendDimension" in r for r in plan.requests)  # 100 rows: room enough


@given(st.text())
def test_text_is_never_a_formula(text: str) -> None:
    data = cell(text)
    assert "formulaValue" not in data.get("userEnteredValue", {})
    if text:
        assert data == {"userEnteredValue": {"stringValue": text}}


def _apply_cells(grid: list[list[str]], requests: list[dict]) -> list[list[str]]:
    """The grid after the plan's updateCells (a tiny stand-in for Sheets, values only)."""
    out = [list(r) for r in grid]
    for req in requests:
        uc = req["updateCells"]
        r0, c0 = uc["start"]["rowIndex"], uc["start"]["columnIndex"]
        for i, row in enumerate(uc["rows"]):
            for j, v in enumerate(row["values"]):
                out[r0 + i][c0 + j] = v.get("userEnteredValue", {}).get("stringValue", "")
    return out


def test_update_frame_merges_consecutive_rows_with_the_same_changed_span() -> None:
    header = ["UPN", "Destination", "Staff note"]
    grid = [header] + [[f"U{i}", "", "n"] for i in range(6)]
    old = tab_frame(snap(grid), TAB)
    new = old.frame.copy()
    for i in (0, 1, 2, 4):  # rows 0-2 change the same column: one block; row 4 is after a gap
        new.loc[i, "dest"] = f"College {i}"
    new.loc[5, "upn"] = "U5x"  # a different span on the next row: its own block
    new.loc[1, "note"] = "staff only"
    plan = WritePlan(snap(grid))
    assert plan.update_frame(old, new, writable={"upn", "dest"}) == 5
    starts = [
        (r["updateCells"]["start"]["rowIndex"], r["updateCells"]["start"]["columnIndex"],
         len(r["updateCells"]["rows"]))
        for r in plan.requests
    ]  # fmt: skip
    assert sorted(starts) == [(1, 1, 3), (5, 1, 1), (6, 0, 1)]
    after = _apply_cells(grid, plan.requests)
    assert after[2][2] == "n"  # the staff column of an existing row is never written
    assert [r[1] for r in after[1:]] == ["College 0", "College 1", "College 2", "", "College 4", ""]


@given(
    st.lists(
        st.tuples(st.sampled_from(["", "a", "b"]), st.sampled_from(["", "a", "b"])),
        min_size=1,
        max_size=12,
    ),
    st.data(),
)
def test_update_frame_writes_exactly_the_changed_writable_cells(
    rows: list[tuple[str, str]], data: st.DataObject
) -> None:
    grid = [["UPN", "Destination", "Staff note"]] + [[u, d, "n"] for u, d in rows]
    old = tab_frame(snap(grid), TAB)
    new = old.frame.copy()
    for i in range(len(rows)):
        new.loc[i, "upn"] = data.draw(st.sampled_from(["", "a", "b"]))
        new.loc[i, "dest"] = data.draw(st.sampled_from(["", "a", "b"]))
        new.loc[i, "note"] = data.draw(st.sampled_from(["n", "staff"]))
    plan = WritePlan(snap(grid))
    written = plan.update_frame(old, new, writable={"upn", "dest"})
    after = _apply_cells(grid, plan.requests)
    expected = [grid[0]] + [[u, d, "n"] for u, d in zip(new["upn"], new["dest"], strict=True)]
    assert after == expected
    changed = sum(
        a != b
        for o, e in zip(grid[1:], expected[1:], strict=True)
        for a, b in zip(o, e, strict=True)
    )
    assert written == changed
    cells = sum(len(r["values"]) for q in plan.requests for r in q["updateCells"]["rows"])
    assert cells == written  # merged blocks carry only changed cells (rows share one span)
