"""gsync.writebatch: a write plan cut into request bodies Google accepts, row-whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import writebatch


def _write(sheet: int, row0: int, col0: int, rows: list[list[str]]) -> dict[str, Any]:
    return {
        "updateCells": {
            "start": {"sheetId": sheet, "rowIndex": row0, "columnIndex": col0},
            "rows": [
                {"values": [{"userEnteredValue": {"stringValue": v}} if v else {} for v in r]}
                for r in rows
            ],
            "fields": "userEnteredValue",
        }
    }


def _apply(requests: list[dict[str, Any]]) -> tuple[dict[tuple[int, int, int], Any], list[str]]:
    """Cells after the writes, in order, and the other requests in order."""
    cells: dict[tuple[int, int, int], Any] = {}
    other: list[str] = []
    for request in requests:
        update = request.get("updateCells")
        if update is None:
            other.append(json.dumps(request, sort_keys=True))
            continue
        start = update["start"]
        for i, row in enumerate(update["rows"]):
            for j, data in enumerate(row["values"]):
                cells[(start["sheetId"], start["rowIndex"] + i, start["columnIndex"] + j)] = data
    return cells, other


def _decoded(bodies: list[list[bytes]]) -> list[list[dict[str, Any]]]:
    out = []
    for parts in bodies:
        body = json.loads(writebatch.body(parts))
        assert set(body) == {"requests"}
        out.append(body["requests"])
    return out


def test_a_plan_that_fits_is_one_body_as_is() -> None:
    requests = [
        {"addSheet": {"properties": {"sheetId": 3, "title": "T"}}},
        _write(3, 0, 0, [["a"]]),
    ]
    bodies = writebatch.split(requests, 10_000)
    assert len(bodies) == 1
    assert _decoded(bodies)[0] == requests
    assert writebatch.size(bodies[0]) == len(writebatch.body(bodies[0]))


def test_text_is_sent_as_utf8_not_escapes() -> None:
    part = writebatch.encode({"v": "Zoë 😀"})
    assert part == '{"v":"Zoë 😀"}'.encode()


def test_a_large_plan_is_cut_under_the_limit_with_tabs_first_and_rows_whole() -> None:
    names = [[f"pupil {i:05d}", f"{i}@example.org", "", "Y"] for i in range(3000)]
    hashes = [[f"h{i}"] for i in range(3000)]
    requests = [
        {"addSheet": {"properties": {"sheetId": 9, "title": "New"}}},
        {"appendDimension": {"sheetId": 5, "dimension": "ROWS", "length": 3000}},
        _write(5, 1, 0, names),  # answer cells of rows 1..3000
        _write(5, 1, 10, hashes),  # their sync_hash cells, a separate request
        _write(9, 0, 0, [["x"] * 3]),
    ]
    limit = 40_000
    bodies = writebatch.split(requests, limit)
    assert len(bodies) > 5
    assert all(writebatch.size(b) <= limit for b in bodies)
    decoded = _decoded(bodies)
    # Tabs and grid growth first, in order.
    assert [next(iter(r)) for r in decoded[0][:2]] == ["addSheet", "appendDimension"]
    assert not any("addSheet" in r or "appendDimension" in r for b in decoded[1:] for r in b)
    # The same cells in the end.
    assert _apply([r for b in decoded for r in b]) == _apply(requests)
    # Each sheet row (its answers and its sync_hash) in exactly one body.
    where: dict[tuple[int, int], int] = {}
    for k, body in enumerate(decoded):
        for sheet, row, _ in _apply(body)[0]:
            assert where.setdefault((sheet, row), k) == k


def test_a_single_row_too_large_is_sent_alone() -> None:
    requests = [_write(1, 0, 0, [["a" * 500]]), _write(1, 1, 0, [["b"]])]
    bodies = writebatch.split(requests, 200)
    assert _apply([r for b in _decoded(bodies) for r in b]) == _apply(requests)


def test_plans_that_move_cells_are_never_cut() -> None:
    requests = [
        {"deleteDimension": {"range": {"sheetId": 1, "dimension": "ROWS", "startIndex": 3}}},
        _write(1, 0, 0, [["x" * 100] for _ in range(50)]),
    ]
    assert len(writebatch.split(requests, 100_000)) == 1  # fits: sent as one, as always
    with pytest.raises(writebatch.TooLarge, match="deleteDimension"):
        writebatch.split(requests, 1_000)


_rows = st.lists(
    st.lists(st.sampled_from(["", "a", "bb", "Zoë", "=1+1", "x" * 40]), max_size=4),
    min_size=1,
    max_size=30,
)
_writes = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 1100), st.integers(0, 5), _rows),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(_writes, st.integers(300, 6_000), st.booleans())
def test_cut_bodies_write_what_the_whole_plan_writes(
    writes: list[tuple[int, int, int, list[list[str]]]], limit: int, with_tab: bool
) -> None:
    requests = [_write(*w) for w in writes]  # overlapping writes too: the later one wins
    if with_tab:
        requests.insert(0, {"addSheet": {"properties": {"sheetId": 2, "title": "T"}}})
    bodies = writebatch.split(requests, limit)
    decoded = _decoded(bodies)
    assert _apply([r for b in decoded for r in b]) == _apply(requests)
    for body, parts in zip(decoded, bodies, strict=True):
        rows = {
            (u["start"]["sheetId"], u["start"]["rowIndex"] + i)
            for u in (r["updateCells"] for r in body if "updateCells" in r)
            for i in range(len(u["rows"]))
        }
        # Over the limit only when a single sheet row alone is.
        assert writebatch.size(parts) <= limit or len(rows) == 1
    where: dict[tuple[int, int], int] = {}
    for k, body in enumerate(decoded):
        for sheet, row, _ in _apply(body)[0]:
            assert where.setdefault((sheet, row), k) == k


def test_the_limit_is_exact() -> None:
    requests = [_write(1, r, 0, [["abc", "Zoë"]]) for r in range(50)]
    requests.insert(0, {"addSheet": {"properties": {"sheetId": 1, "title": "T"}}})
    whole = len(writebatch.body([writebatch.encode(r) for r in requests]))
    assert len(writebatch.split(requests, whole)) == 1
    assert len(writebatch.split(requests, whole - 1)) == 2
