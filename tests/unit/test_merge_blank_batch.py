"""Brief V2: a school's pupils whose groups are all blank are written together.

`_Run.merge` sets aside the pupils whose Destinations row is as read and whose groups written
this night are all blank in it (a first night's every pupil), counts and lists their changes at
once, and `_Run._write_blank` makes their cells and `sync_hash` texts group by group, written
with `_Table.write_columns` (kept as columns until a row's dict is asked for). Each test runs
the merge with the batch from a school's first pupil on (`_BATCH_AT_LEAST` 0 or small), and
compares it with the frozen merge (tests/unit/_reference_merge2, `_both`) and with the merge
that writes every pupil on its own (the memos too).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import merge
from gsync.sample import DEFAULT_QUESTION_MAP
from tests.unit import test_merge_first_night as first_night
from tests.unit.test_core_equivalence import NOW, TEMPLATE, _entry_for, _make_trust
from tests.unit.test_merge_equivalence import _both, _same_plan
from tests.unit.test_merge_fast import bad_start_dates_night
from tests.unit.test_merge_first_night import DEST as FIRST_DEST
from tests.unit.test_merge_first_night import TYPED, Night, _night
from tests.unit.test_merge_steady import DEST, RAW, _change_dest

KEY = "rules-v1"
LATER = NOW + dt.timedelta(days=1)


@contextmanager
def _batch_from(at_least: int) -> Iterator[list[int]]:
    """The batch taken by schools with `at_least` pupils to write; yields the number of groups
    each `_write_blank` call wrote."""
    sizes: list[int] = []
    real_at, real_write = merge._BATCH_AT_LEAST, merge._Run._write_blank

    def write(self: Any, shapes: Any) -> None:
        sizes.append(sum(len(groups) * len(rows) for groups, rows, _ in shapes))
        real_write(self, shapes)

    merge._BATCH_AT_LEAST = at_least
    merge._Run._write_blank = write  # type: ignore[method-assign]
    try:
        yield sizes
    finally:
        merge._BATCH_AT_LEAST = real_at
        merge._Run._write_blank = real_write  # type: ignore[method-assign]


def _plan(tabs: dict[str, pd.DataFrame], night: Night, now: dt.datetime, memo: Any) -> Any:
    return merge.plan_sync_many(
        tabs, [merge.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in night],
        entry_for=_entry_for, now=now, template=TEMPLATE, memo=memo, memo_key=KEY,
    )  # fmt: skip


def _batched_is_unbatched(
    tabs: dict[str, pd.DataFrame], night: Night, at_least: int, now: dt.datetime = NOW,
    memo: dict[str, str] | None = None,
) -> tuple[Any, list[int]]:  # fmt: skip
    """The night merged with the batch (from `at_least` pupils) and without: the same plan,
    memos and reuse included; the batched plan and the batch sizes."""
    with _batch_from(at_least) as sizes:
        batched = _plan(tabs, night, now, memo)
    with _batch_from(10**9) as none:
        single = _plan(tabs, night, now, memo)
    assert none == []
    _same_plan(batched, single)
    assert batched.memo == single.memo
    assert batched.reused == single.reused
    return batched, sizes


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from((3, 4, 11)),
    at_least=st.sampled_from((0, 1, 5, 30)),
    changes=st.lists(
        st.tuples(st.sampled_from(TYPED + FIRST_DEST + DEST + RAW), st.integers(0, 2**32)),
        max_size=25,
    ),
)
def test_first_nights_batched_equal_the_frozen_merge(
    seed: int, at_least: int, changes: list[tuple[str, int]]
) -> None:
    """Staff-typed and hashed groups next to blank ones, odd `sync_hash` texts, duplicate and
    twin pupils (a pupil in two schools' rows), edited, new, stolen and repeated responses,
    Sustained checks (odd seeds)."""
    tabs, raw = _night(seed, [c for c in changes if c[0] in TYPED + FIRST_DEST + RAW])
    for kind, salt in changes:
        if kind in DEST and kind not in FIRST_DEST:
            tabs["destinations"] = _change_dest(tabs["destinations"], kind, random.Random(salt))
    with _batch_from(at_least):
        plan = _both(tabs, raw)
    again, _ = _batched_is_unbatched(tabs, raw, at_least)
    # The night after, from the memos: schools merged from them, or in full.
    _batched_is_unbatched(dict(again.tabs), raw, at_least, LATER, again.memo)
    with _batch_from(at_least):
        _both(dict(plan.tabs), raw, LATER)


@pytest.mark.parametrize("seed", (3, 4, 11))
def test_a_first_night_takes_the_batch(seed: int) -> None:
    trust = _make_trust(seed, sustained=seed % 2 == 1)
    raw = [(s.school, s.form_responses()) for s in trust.samples]
    with _batch_from(0) as sizes:
        plan = _both(trust.tabs, raw)
    assert sizes and sum(sizes) == plan.counts["applied"] - _sustained_applied(plan)
    _batched_is_unbatched(trust.tabs, raw, 0)
    # With the default threshold these small schools write pupil by pupil.
    with _batch_from(merge._BATCH_AT_LEAST) as sizes:
        _both(trust.tabs, raw)
    assert sizes == []


@pytest.mark.parametrize("seed", (3, 4))
def test_bad_start_dates_in_the_batch(seed: int) -> None:
    """A start date the form's checks found bad is blank in the batch's entries, as
    `_entry_tuple` makes it (the batch builds the entries column by column)."""
    trust = _make_trust(seed, sustained=seed % 2 == 1)
    raw = bad_start_dates_night(trust)
    with _batch_from(0) as sizes:
        plan = _both(trust.tabs, raw)
    assert sizes
    assert plan.tabs["responses"]["issues"].str.contains("bad_start_date").any()
    _batched_is_unbatched(trust.tabs, raw, 0)


def _sustained_applied(plan: Any) -> int:
    return sum(1 for c in plan.changes if ": Sustained: " in c)


def test_a_pupil_written_by_two_schools() -> None:
    """A pupil-in-cohort listed by two schools (one row holds the key): the first school's batch
    writes the row, the second finds it written and writes it pupil by pupil."""
    trust = _make_trust(4, sustained=False)
    tabs = {k: v.copy() for k, v in trust.tabs.items()}
    raw: Night = [(s.school, s.form_responses()) for s in trust.samples]
    dest = tabs["destinations"]
    first, second = raw[0][0], raw[1][0]
    answered = {str(r.get("respondentEmail", "")).casefold() for r in raw[0][1]}
    mine = dest[(dest["school"] == first) & dest["school_email"].str.casefold().isin(answered)]
    copy = mine.iloc[:3].copy()
    copy["school"] = second  # the same key at the end: `pupil_at` finds this row for both
    tabs["destinations"] = pd.concat([dest, copy], ignore_index=True)
    # The second school lists the first school's responses of those pupils again, later.
    emails = set(copy["school_email"].str.casefold())
    again = [
        {**r, "lastSubmittedTime": "2026-07-30T10:00:00.000Z"}
        for r in raw[0][1]
        if str(r.get("respondentEmail", "")).casefold() in emails
    ]
    night = [raw[0], (second, [*raw[1][1], *again]), *raw[2:]]
    with _batch_from(0) as sizes:
        plan = _both(tabs, night)
    assert sizes
    _batched_is_unbatched(tabs, night, 0)
    assert plan.counts["applied"] > 0


def test_a_new_school_beside_schools_merged_from_memos() -> None:
    """A school that joins the trust (its pupils' groups blank) is batched while the others
    merge from their memos; its memo, and theirs, are the unbatched merge's."""
    trust = _make_trust(3, sustained=True)
    raw: Night = [(s.school, s.form_responses()) for s in trust.samples]
    with _batch_from(0):
        first = _plan(trust.tabs, raw[:-1], NOW, None)
    tabs = dict(first.tabs)
    plan, sizes = _batched_is_unbatched(tabs, raw, 0, LATER, first.memo)
    assert sizes and plan.reused  # the new school batched, others from memos
    assert all(plan.memo.values())


def _table(rows: int = 4) -> merge._Table:
    frame = pd.DataFrame(
        {
            "school": [f"S{i % 2}" for i in range(rows)],
            "upn": [f"u{i}" for i in range(rows)],
            "consent": ["", "x", "", ""][:rows],
            "extra": list(range(rows)),
        }
    )
    return merge._Table(frame, TEMPLATE.tab("destinations"))


def test_write_columns_is_write() -> None:
    """`write_columns` leaves the cells, schools written and (once asked for) the row dicts
    that `write` of each row's dict leaves; a row's cells read back before any dict is made;
    rows written after it (their dicts made then) and cells outside the tab's columns."""
    keys = ("consent", "telephone", "nowhere", "sync_hash")
    columns = [("Y", "N"), ("07700", ""), ("a", "b"), ("ct=1", "ct=2")]
    by_columns, by_rows = _table(), _table()
    for table in (by_columns, by_rows):
        table.written.clear()
        table.recent.clear()
    by_columns.write_columns([2, 0], keys, [list(c) for c in columns])
    for i, cells in zip([2, 0], zip(*columns, strict=True), strict=True):
        by_rows.write(i, dict(zip(keys, cells, strict=True)))
    assert by_columns.written == by_rows.written == {"S0"}
    assert by_columns.recent == by_rows.recent
    assert by_columns.is_written(2) and not by_columns.is_written(1)
    assert by_columns.frame().equals(by_rows.frame())  # from the columns
    assert by_columns.get(3, "consent") == "" and by_columns._blocks  # row 3: not put in
    assert by_columns.edited(3) is None and by_columns._blocks
    assert by_columns.get(0, "telephone") == "" and by_columns.get(2, "consent") == "Y"
    assert not by_columns._blocks  # a written row read: the blocks are rows now
    assert by_columns.edited(2) == by_rows.edits[2]
    assert by_columns.edits == by_rows.edits
    assert [list(d) for d in by_columns.edits.values()] == [list(d) for d in by_rows.edits.values()]
    for table in (by_columns, by_rows):
        table.update(2, {"telephone": "1"})
        table.write(1, {"consent": "N"})
    assert by_columns.frame().equals(by_rows.frame())
    assert by_columns.edits == by_rows.edits
    # The blocks put in by any other read of `edits`.
    table = _table()
    table.write_columns([1], ("sync_hash",), [["id=1"]])
    assert table.edits == {1: {"sync_hash": "id=1"}} and not table._blocks
    assert table.frame()["sync_hash"].tolist() == ["", "id=1", "", ""]


@pytest.mark.parametrize(
    ("rows", "keys", "columns"),
    [
        ([1, 1], ("consent",), [["Y", "N"]]),  # a row twice
        ([0], ("consent",), [["Y"]]),  # written before
        ([5], ("consent",), [["Y"]]),  # appended
        ([-1], ("consent",), [["Y"]]),
        ([2], ("school",), [["S9"]]),  # the school's cell
        ([2], ("consent", "consent"), [["Y"], ["N"]]),
        ([2], ("consent",), [["Y", "N"]]),  # cells not one per row
        ([2], ("consent", "telephone"), [["Y"]]),
    ],
)
def test_write_columns_refuses(rows: list[int], keys: tuple[str, ...], columns: Any) -> None:
    table = _table()
    table.write(0, {"consent": "Y"})
    table.append({"school": "S0", "upn": "u9"})
    with pytest.raises(ValueError, match="write_columns"):
        table.write_columns(rows, keys, columns)
    assert not table._blocks


def test_pupils_whose_groups_have_different_winners() -> None:
    """A later submission without a destination wins a pupil's contact details, the earlier
    one its entry (each group recorded with its own submission's token); and a later one
    with another consent answer."""
    trust = _make_trust(11, sustained=False)
    raw: Night = [(s.school, s.form_responses()) for s in trust.samples]
    destination = DEFAULT_QUESTION_MAP["destination"]
    consent = DEFAULT_QUESTION_MAP["consent"]
    night: Night = []
    for school, responses in raw:
        later = []
        for n, r in enumerate(responses[:8]):
            answers = dict(r.get("answers") or {})
            answers.pop(destination, None)
            if n % 2:
                value = "No, I do not agree" if n % 4 == 1 else "Yes, I agree"
                answers[consent] = {"textAnswers": {"answers": [{"value": value}]}}
            later.append(
                {
                    **r,
                    "responseId": f"{r['responseId']}-later",
                    "answers": answers,
                    "lastSubmittedTime": "2026-07-30T10:00:00.000Z",
                }
            )
        night.append((school, [*responses, *later]))
    with _batch_from(0) as sizes:
        plan = _both(trust.tabs, night)
    assert sizes
    _batched_is_unbatched(trust.tabs, night, 0)
    tokens = [
        {part.split("=")[0]: part.partition(".")[2] for part in text.split()[1:]}
        for text in plan.tabs["destinations"]["sync_hash"]
    ]
    assert any(t.get("ct") and t.get("ci") and t["ct"] != t["ci"] for t in tokens)


def test_first_night_log_rows_without_consent() -> None:
    """New responses appended as their own log rows at once: without consent ("No", or
    unanswered) their personal email and telephone are not kept."""
    trust = _make_trust(4, sustained=False)
    consent = DEFAULT_QUESTION_MAP["consent"]
    night: Night = []
    for s in trust.samples:
        responses = []
        for n, r in enumerate(s.form_responses()):
            answers = dict(r.get("answers") or {})
            if n % 3 == 1:
                answers[consent] = {"textAnswers": {"answers": [{"value": "No, I do not agree"}]}}
            elif n % 3 == 2:
                answers.pop(consent, None)
            responses.append({**r, "answers": answers})
        night.append((s.school, responses))
    with _batch_from(0):
        plan = _both(trust.tabs, night)
    log = plan.tabs["responses"]
    assert plan.counts["new"] == len(log) > 0
    assert (log["consent"] != "Y").any() and (log["consent"] == "Y").any()
    assert (log.loc[log["consent"] != "Y", ["personal_email", "telephone"]] == "").all().all()
    assert (log.loc[log["consent"] == "Y", "personal_email"] != "").any()


def test_typed_groups_on_every_pupil_batched() -> None:
    """Every pupil's groups typed one way, for each way, with the batch on: a pupil with a
    filled group is written pupil by pupil, the others together."""
    with _batch_from(0) as sizes:
        first_night.test_each_kind_of_typed_group_on_every_pupil()
    assert sizes
