"""`WritePlan.replace_tab` of `TextRows`: rows whose cells are all exactly str, handed over by
the caller (the Risk tab), compared without a look at each cell's type and written without a copy
when as wide as the tab. The same plan as without the promise and as the frozen code before issue
7 (`_reference_sheetio`): rows wider or narrower than the rows read, than each other, blank rows,
rows only one side has, a tab not there yet.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import example, given

from gsync import sheetio as new_io
from tests.unit import _reference_sheetio as ref_io
from tests.unit.test_sheetio_equivalence import SEEDS, SETTINGS
from tests.unit.test_sheetio_frames_fast import _outcome, _replace_tab_before

TEXTS = ["", "", "a", "b", "c", "1", "0", "1,234", "TRUE", " x", "é", "=1+1"]


def _case(seed: int) -> tuple[list[list[str]], list[list[str]]]:
    """A grid as read and the rows to write, all text, often the same."""
    rng = random.Random(seed)
    width = rng.randint(0, 5)
    rows = [
        [rng.choice(TEXTS) for _ in range(width if rng.random() < 0.8 else rng.randint(0, width))]
        for _ in range(rng.choice([0, 1, 2, 4, 9, 20]))
    ]
    grid = []
    for row in rows:
        read = new_io._trim(list(row))
        pick = rng.random()
        if pick < 0.15:
            read = new_io._trim([rng.choice(TEXTS) for _ in row])
        elif pick < 0.25:
            read = [*read, rng.choice(["a", "", "b"])]
        elif pick < 0.3:
            read = read[:-1]
        grid.append(read)
    if rng.random() < 0.3 and grid:
        grid = grid[: rng.randrange(len(grid))]
    if rng.random() < 0.3:
        grid += [[rng.choice(TEXTS) for _ in range(rng.randint(0, 6))] for _ in range(3)]
    return grid, rows


def _plans(grid: list[list[str]], rows: list[list[str]], there: bool) -> list[Any]:
    """The plan before (the frozen `replace_tab` for a new tab; for a tab there, the one before
    `_changed_rows`, which writes only the rows that changed), of `replace_tab` and of
    `replace_tab` of `TextRows`."""
    info = new_io.TabInfo(sheet_id=4, title="Tab", index=0, rows=10, cols=3)
    tabs, grids = ({"Tab": info}, {"Tab": grid}) if there else ({}, {})
    out = []
    for how in ("before", "plain", "texts"):
        module = ref_io if how == "before" and not there else new_io
        plan = module.WritePlan(module.Snapshot("sid", "T", dict(tabs), dict(grids)))
        plan.new_sheet_id = lambda: 99  # type: ignore[method-assign]
        given_rows = [list(r) for r in rows]
        if how == "before" and there:
            done = _outcome(lambda: _replace_tab_before(plan, "Tab", given_rows))  # noqa: B023
        else:
            given = new_io.TextRows(given_rows) if how == "texts" else given_rows
            done = _outcome(lambda: plan.replace_tab("Tab", given))  # noqa: B023
        assert given_rows == rows  # nothing changed the caller's rows
        out.append((done, list(plan.requests), plan.changes, plan._sizes))
    return out


@SETTINGS
@given(SEEDS)
@example(seed=0)
def test_text_rows_plan_as_without_the_promise(seed: int) -> None:
    grid, rows = _case(seed)
    for there in (True, False):
        want, plain, texts = _plans(grid, rows, there)
        assert plain == want
        assert texts == want
    assert new_io._changed_rows(grid, rows, texts=True) == new_io._changed_rows(grid, rows)


def test_text_rows_wider_than_the_rows_read_are_kept() -> None:
    """Rows as wide as the tab are the very lists given; narrower ones padded copies."""
    grid = [["h", "i"], ["a"], ["b", "x", "y"]]
    for rows in ([["h", "i", ""], ["a", "b", ""], ["c", "", ""]], [["h", "i"], ["a", "b"], ["c"]]):
        info = new_io.TabInfo(sheet_id=4, title="Tab", index=0, rows=10, cols=3)
        plan = new_io.WritePlan(new_io.Snapshot("sid", "T", {"Tab": info}, {"Tab": grid}))
        assert plan.replace_tab("Tab", new_io.TextRows(rows))
        written = [r for item in plan.items if isinstance(item, new_io.CellBlock) for r in item.rows or []]  # fmt: skip
        assert written == [[*r, *[""] * (3 - len(r))] for r in rows[1:]]
        kept = all(len(r) == 3 for r in rows)
        assert all((w is r) == kept for w, r in zip(written, rows[1:], strict=True))
        want = new_io.WritePlan(new_io.Snapshot("sid", "T", {"Tab": info}, {"Tab": grid}))
        _replace_tab_before(want, "Tab", rows)
        assert list(plan.requests) == list(want.requests) and plan.changes == want.changes
