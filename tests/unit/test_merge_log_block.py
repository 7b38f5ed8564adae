"""Brief W1 (session 12): a first night's all-new responses appended to the Responses log as a
block of cells (`_Table.add_block`, rows made dicts only when asked for) give what appending
each as its row dict gives, and the merge's output stays the frozen merge's.

The table tests apply random sequences of appends (blocks and rows), reads (`get`, `cells`,
`cell_tuple`, `row`, `by_school`, `pick`, `nonblank`), writes (`update`, `write`, a row moving
school, a row's dict written into) to two tables, one appending blocks and one the same rows as
dicts (`add_row`), on a frame with rows before or none, and compare every answer and the frames.
The merge tests run nights that take the block path (checked) next to the frozen merge: a log
with rows before, a response logged by another school, duplicate ids, a school listed twice,
responses moving school, with and without a Sustained tab.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import merge
from gsync.template import load_template
from tests.unit.test_core_equivalence import NOW, _make_trust
from tests.unit.test_merge_equivalence import _both

TAB = load_template().tab("responses")
CELLS = ("", "a", "b", "Y", "N", "x y")
SCHOOLS = ("s1", "s2", "s3")


def _frame(n: int, rng: random.Random, extra: bool) -> pd.DataFrame:
    columns = list(TAB.keys) + (["extra"] if extra else [])
    data = {c: [rng.choice(SCHOOLS if c == "school" else CELLS) for _ in range(n)] for c in columns}
    return pd.DataFrame(data, columns=columns, dtype=object)


def _rows(table: merge._Table, m: int, school: str, rng: random.Random) -> list[dict[str, str]]:
    others = [c for c in table.columns if c != "school"]
    return [{c: rng.choice(CELLS) + str(rng.randrange(3)) for c in others} for _ in range(m)]


def _append_block(table: merge._Table, school: str, rows: list[dict[str, str]]) -> None:
    keys = tuple(dict.fromkeys(c for c in table.columns if c != "school"))
    table.add_block(school, keys, merge._cell_block(rows, keys))


def _append_rows(table: merge._Table, school: str, rows: list[dict[str, str]]) -> None:
    for row in rows:
        table.add_row({**row, "school": school})


def _same_tables(a: merge._Table, b: merge._Table) -> None:
    assert len(a) == len(b)
    keys = tuple(a.columns)
    for i in range(len(a)):
        assert a.cell_tuple(i, keys) == b.cell_tuple(i, keys)
        assert a.cells(i, ("school", "response_id", "nope")) == b.cells(
            i, ("school", "response_id", "nope")
        )
        assert a.get(i, "nope") == b.get(i, "nope") == ""
    assert a.by_school() == b.by_school()
    assert a.written == b.written
    fa, fb = a.frame(), b.frame()
    assert fa.columns.tolist() == fb.columns.tolist()
    assert fa.to_numpy().tolist() == fb.to_numpy().tolist()
    assert fa.equals(fb)


OPS = ("block", "rows", "get", "update", "move", "write", "row", "row_write", "pick", "by_school")


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(0, 4),
    extra=st.booleans(),
    ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 2**32)), max_size=14),
)
def test_rows_appended_as_blocks_equal_rows_appended_as_dicts(
    n: int, extra: bool, ops: list[tuple[str, int]]
) -> None:
    frame = _frame(n, random.Random(n), extra)
    blocks, dicts = merge._Table(frame, TAB), merge._Table(frame, TAB)
    for kind, salt in ops:
        rng = random.Random(salt)
        total = len(blocks)
        if kind in ("block", "rows"):
            school = rng.choice(SCHOOLS)
            rows = _rows(blocks, rng.randrange(0, 4), school, rng)
            (_append_block if kind == "block" else _append_rows)(blocks, school, rows)
            _append_rows(dicts, school, [dict(r) for r in rows])
            continue
        if not total:
            continue
        i = rng.randrange(total)
        key = rng.choice(("response_id", "school", "consent", "telephone", "extra", "nope"))
        if kind == "get":
            assert blocks.get(i, key) == dicts.get(i, key)
        elif kind in ("update", "move"):
            values = {"consent": rng.choice(CELLS), "telephone": "07"}
            if kind == "move":
                values["school"] = rng.choice(SCHOOLS)
            for t in (blocks, dicts):
                t.update(i, dict(values))
        elif kind == "write":
            entry = rng.choice(CELLS)
            for t in (blocks, dicts):
                t.write(i, {"reason": "written", "entry": entry})
        elif kind in ("row", "row_write"):
            a, b = blocks.row(i), dicts.row(i)
            assert {c: a.get(c, "") for c in blocks.columns} == {
                c: b.get(c, "") for c in dicts.columns
            }
            if kind == "row_write":  # writing into the row's dict writes the row
                a["note"] = b["note"] = "typed"
        elif kind == "pick":
            positions = sorted(rng.sample(range(total), min(total, 3)))
            assert list(blocks.pick(positions, key)) == list(dicts.pick(positions, key))
            assert blocks.nonblank(positions, key) == dicts.nonblank(positions, key)
            assert blocks.cell_tuples(positions, ("school", key)) == dicts.cell_tuples(
                positions, ("school", key)
            )
        elif kind == "by_school":
            assert blocks.by_school() == dicts.by_school()
    _same_tables(blocks, dicts)


def test_a_block_must_hold_every_column_but_the_school_once() -> None:
    table = merge._Table(None, TAB)
    keys = tuple(c for c in table.columns if c != "school")
    cells = np.empty((1, len(keys)), dtype=object)
    cells[:] = "x"
    for bad in (keys[:-1], (*keys[:-1], "school"), (*keys[:-1], keys[0])):
        with pytest.raises(ValueError):
            table.add_block("s", bad, cells[:, : len(bad)])
    table.add_block("s", keys, np.empty((0, len(keys)), dtype=object))
    assert len(table) == 0
    table.add_block("s", keys, cells)
    assert table.get(0, "school") == "s" and table.row(0)["response_id"] == "x"


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The rows each `add_block` call appends (the block path taken)."""
    calls: list[int] = []
    real = merge._Table.add_block

    def spy(self: merge._Table, school: str, keys: Any, cells: Any) -> None:
        calls.append(len(cells))
        real(self, school, keys, cells)

    monkeypatch.setattr(merge._Table, "add_block", spy)
    return calls


@pytest.mark.parametrize("seed", [3, 4, 11])
def test_first_nights_through_blocks_equal_the_frozen_merge(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch)
    trust = _make_trust(seed, sustained=seed % 2 == 1)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    plan = _both(trust.tabs, raw)
    assert calls and sum(calls) == plan.counts["new"]


def test_nights_mixing_blocks_with_rows_logged_before_and_by_other_schools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A log with rows before (the first school's responses logged, the others' not), a
    response listed by another school, one listed twice by a school, a school listed twice,
    a response moving school, then the night after."""
    calls = _spy(monkeypatch)
    trust = _make_trust(11, sustained=True)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    first = _both(trust.tabs, raw[:1])
    assert calls
    calls.clear()
    (s0, r0), (s1, r1) = raw[0], raw[1]
    night = [
        (s0, r0),
        (s1, [*r1, r0[0], r1[0]]),  # another school's logged response, a duplicate id
        *raw[2:],
        (s1, r1[:3]),  # a school listed twice
        (raw[2][0], [r1[1]]),  # a response moving school (logged in this run by s1)
    ]
    plan = _both(dict(first.tabs), night)
    assert calls  # the schools whose responses are all new still take the block path
    later = [{**r, "lastSubmittedTime": "2026-07-30T10:00:00.000Z"} for r in r1[:4]]
    _both(dict(plan.tabs), [*night, (s1, later)], NOW + dt.timedelta(days=1))


def test_duplicate_ids_and_no_consent_in_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """A school's listing holding one response twice, and responses without consent (their
    contact cells blanked in the block): the block path, the frozen merge's rows."""
    calls = _spy(monkeypatch)
    trust = _make_trust(4)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    school, responses = raw[0]
    twice = [*responses, dict(responses[0])]
    plan = _both(trust.tabs, [(school, twice), *raw[1:]])
    assert calls
    log = plan.tabs["responses"]
    assert (log.loc[log["consent"] != "Y", ["personal_email", "telephone"]] == "").all().all()


def _pool_by_definition(fresh: list[dict[str, str]]) -> list[dict[str, str]]:
    """`_pool` of responses with nothing logged, as its general path makes it: a later listing
    of an id replaces an earlier one unless older, then ordered by (last submitted, id)."""
    by_id: dict[str, dict[str, str]] = {}
    for row in fresh:
        held = by_id.get(row["response_id"])
        if held is None or row["last_submitted"] >= held["last_submitted"]:
            by_id[row["response_id"]] = row
    return sorted(by_id.values(), key=lambda r: (r["last_submitted"], r["response_id"]))


@settings(max_examples=300, deadline=None)
@given(
    listed=st.lists(
        st.tuples(st.sampled_from("abcdefgh"), st.sampled_from(("t1", "t2", "t3", "t4", "t5"))),
        max_size=8,
    )
)
def test_pool_with_nothing_logged(listed: list[tuple[str, str]]) -> None:
    """Distinct ids and times (ordered by time alone), repeated ids, repeated times."""
    fresh = [
        {"response_id": i, "last_submitted": t, "k": str(n)} for n, (i, t) in enumerate(listed)
    ]
    table = merge._Table(None, TAB)
    got, read_from = merge._pool(fresh, table, [])
    want = _pool_by_definition(fresh)
    assert read_from == {}
    assert len(got) == len(want) and all(a is b for a, b in zip(got, want, strict=True))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 40),
    ops=st.lists(
        st.tuples(
            st.sampled_from(("update", "write", "block", "rows", "list", "columns")),
            st.integers(0, 2**32),
        ),
        max_size=8,
    ),
    picks=st.lists(st.integers(-3, 50), max_size=3),
)
def test_few_rows_read_from_the_arrays_equal_cell_tuple(
    n: int, ops: list[tuple[str, int]], picks: list[int]
) -> None:
    """`_Table._few_tuples` (the frame's unwritten rows read from the columns' arrays, lists
    where made) and `_logged_responses` of a few rows give `cell_tuple`'s cells: rows written
    (`update`, `write`, `write_columns`), appended (blocks, dicts), a column not in the frame."""
    rng = random.Random(n)
    frame = _frame(n, rng, extra=True).drop(columns=["telephone"])
    table = merge._Table(frame, TAB)
    for kind, salt in ops:
        r = random.Random(salt)
        if kind in ("block", "rows"):
            school = r.choice(SCHOOLS)
            rows = _rows(table, r.randrange(3), school, r)
            (_append_block if kind == "block" else _append_rows)(table, school, rows)
        elif kind == "list":  # a column made a list (as the merge's reads make them)
            table.column(r.choice(table.columns))
        elif len(table):
            i = r.randrange(len(table))
            if kind == "update":
                table.update(i, {"consent": r.choice(CELLS), "school": r.choice(SCHOOLS)})
            elif kind == "write":
                table.write(i, {"issues": "x", "telephone": "07"})
            elif n and not table.is_written(i % n):
                table.write_columns([i % n], ("created", "full_name"), [["c"], ["f"]])
    total = len(table)
    # (A negative position counts from the end of the frame's rows as read, as a list's.)
    positions = [p for p in picks if -n <= p < total]
    keys = (*merge._POOL_CELLS, "school", "nope")
    assert table._few_tuples(positions, keys) == [table.cell_tuple(i, keys) for i in positions]
    logged = [p for p in positions if p >= 0]
    want = [
        dict(zip(merge.RESPONSE_COLUMNS, table.cell_tuple(i, merge._POOL_CELLS), strict=True))
        for i in logged
    ]
    assert merge._logged_responses(table, logged) == want
