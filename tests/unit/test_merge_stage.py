"""Brief R5's shortcuts in the steady night's merge stage give what the plain code gives.

`merge._not_yet_logged` finds a response listed with its logged id and time by one lookup when
every logged time of the school is in `timestamp`'s form (`responses.all_stamped`, which reads the times
as one block of bytes); here both are checked against the plain rule of the frozen merge (a
response is merged again unless the log holds its id with `timestamp` of its time) on logs and
listings that break the shortcut's assumptions one by one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import re
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import merge, mergememo, responses
from gsync.template import load_template
from tests.unit import test_merge_memo
from tests.unit._reference_merge2 import responses as ref_responses
from tests.unit.test_merge_steady import DEST, LATER, LOG, RAW, _first

_REGEX = re.compile(r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
BASE = "2026-06-01T10:00:00.123Z"
# Text one character or one place away from `timestamp`'s form.
NEAR = ["2026-02-30T10:00:00.000Z", "9999-12-31T23:59:59.999Z", "1000-01-01T00:00:00.000Z",
        "0999-01-01T00:00:00.000Z", BASE + " ", " " + BASE, BASE[:-1], BASE.replace("Z", "z"),
        BASE.replace(".123", ".12"), BASE.replace(".123", ".1234"), BASE.replace("T", " "),
        BASE + "\n", "٢٠٢٦-06-01T10:00:00.123Z", "2026-06-01T10:00:00.12éZ", "", "x" * 24,
        "2026/06-01T10:00:00.123Z", "2026-06-01T10:00:00,123Z", "2026-06-01T10-00:00.123Z",
        "2026-06-01T10:00:00.123+", "2026-06-01T1a:00:00.123Z", "2026-06-01T10:00:00.12:Z",
        "20260-6-01T10:00:00.123Z", "2026-06-01T10:00:0/.123Z", "2026-06-01T10:00:00.12;Z"]  # fmt: skip


def _stamp(rng: random.Random) -> str:
    return (
        f"{rng.randint(1000, 9999)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
        f"{rng.randint(0, 999):03d}Z"
    )


def test_all_stamped_equals_the_regex_on_near_misses() -> None:
    rng = random.Random(5)
    stamps = [_stamp(rng) for _ in range(40)]
    assert responses.all_stamped(stamps)
    assert responses.all_stamped([BASE])
    for text in NEAR:
        for at in (0, 17, 39):
            times = [*stamps[:at], text, *stamps[at:]]
            want = all(_REGEX.fullmatch(t) for t in times)
            assert responses.all_stamped(times) == want, (repr(text), at)


_CHARS = "0123456789-T:.Z /z\n\u0661\x1f"


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    edits=st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 25), st.sampled_from(_CHARS)), max_size=4
    ),
)
def test_all_stamped_equals_the_regex(seed: int, edits: list[tuple[int, int, str]]) -> None:
    rng = random.Random(seed)
    times = [_stamp(rng) for _ in range(rng.randint(1, 30))]
    for i, at, char in edits:
        if i < len(times):
            text = times[i]
            times[i] = text[:at] + char + text[at + 1 :] if at < 24 else text + char
    assert responses.all_stamped(times) == all(_REGEX.fullmatch(t) for t in times)


def _plain(raw: list[dict[str, Any]], held: dict[str, str]) -> list[dict[str, Any]]:
    """The frozen merge's rule (tests/unit/_reference_merge2/merge.py `_not_yet_logged`)."""
    if not held:
        return raw
    return [
        r
        for r in raw
        if held.get(str(r.get("responseId", "")))
        != ref_responses.timestamp(r.get("lastSubmittedTime") or r.get("createTime", ""))
    ]


class _Text(str):
    """A str subclass (no reader gives one, but the rule must not depend on it)."""


def _listing(rng: random.Random, logged: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Responses listed for logged ones (as logged, or changed one way each) and new ones."""
    out: list[dict[str, Any]] = []
    for rid, when in logged:
        r: dict[str, Any] = {"responseId": rid, "lastSubmittedTime": when, "createTime": BASE}
        kind = rng.randrange(12)
        if kind == 1:
            r["lastSubmittedTime"] = _stamp(rng)  # edited
        elif kind == 2:
            r["lastSubmittedTime"] = when[:19] + "Z" if when else when  # same time, other form
        elif kind == 3:
            r["lastSubmittedTime"] = _Text(when)
        elif kind == 4:
            r["responseId"] = _Text(rid)
        elif kind == 5:
            del r["lastSubmittedTime"]  # the creation time counts
        elif kind == 6:
            r["lastSubmittedTime"] = ""
        elif kind == 7:
            r["responseId"] = int(rid[1:]) if rid[1:].isdigit() else rid
        elif kind == 8:
            r["lastSubmittedTime"] = None
            r["createTime"] = when
        out.append(r)
    out += [{"responseId": f"new{k}", "lastSubmittedTime": _stamp(rng)} for k in range(3)]
    out.append({"lastSubmittedTime": BASE})  # no id
    rng.shuffle(out)
    return out


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**16), odd=st.lists(st.sampled_from(NEAR), max_size=2))
def test_not_yet_logged_equals_the_plain_rule(seed: int, odd: list[str]) -> None:
    """Logs all in `timestamp`'s form (the one-lookup path) or not (a near miss logged: the
    path that parses), listings with ids and times of other types, forms and blanks; a
    response id logged twice (the later row counts) and another school's rows."""
    rng = random.Random(seed)
    times = [_stamp(rng) for _ in range(rng.randint(1, 12))]
    for text in odd:
        times[rng.randrange(len(times))] = text
    ids = [f"r{rng.randrange(40)}" for _ in times]  # some logged twice
    rows = [
        {"school": "A", "response_id": i, "last_submitted": t}
        for i, t in zip(ids, times, strict=True)
    ]
    rows.insert(rng.randint(0, len(rows)), {"school": "B", "response_id": "r1",
                                            "last_submitted": BASE})  # fmt: skip
    rows.append({"school": "A", "response_id": "", "last_submitted": BASE})
    log = merge._Table(pd.DataFrame(rows), load_template().tab("responses"))
    mine = log.nonblank(log.by_school()["A"], "response_id")
    held = {r["response_id"]: r["last_submitted"] for r in rows if r["school"] == "A"}
    held.pop("", None)
    raw = _listing(rng, list(held.items()))
    got = merge._not_yet_logged(raw, log, mine)
    want = _plain(raw, held)
    assert [id(r) for r in got] == [id(r) for r in want]


def test_not_yet_logged_takes_the_one_lookup_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A steady listing of a log in `timestamp`'s form: nothing to normalise, no time parsed."""
    rng = random.Random(3)
    rows = [{"school": "A", "response_id": f"r{k}", "last_submitted": _stamp(rng)} for k in range(50)]  # fmt: skip
    log = merge._Table(pd.DataFrame(rows), load_template().tab("responses"))
    raw = [{"responseId": r["response_id"], "lastSubmittedTime": r["last_submitted"]} for r in rows]
    mine = list(range(50))
    calls: list[str] = []
    real = merge.timestamp

    def spied(text: str) -> str:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(merge, "timestamp", spied)
    assert merge._not_yet_logged(raw, log, mine) == []
    assert calls == []
    raw[7] = {**raw[7], "lastSubmittedTime": _stamp(rng)}
    assert merge._not_yet_logged(raw, log, mine) == [raw[7]]
    assert len(calls) == 1


_CELL = st.sampled_from(["", "A", "B", "b", "A ", "Ä", "\x1f"])


@settings(max_examples=200, deadline=None)
@given(
    schools=st.lists(_CELL, max_size=30),
    upns=st.lists(_CELL, max_size=30),
    more=st.lists(_CELL, max_size=3),
)
def test_indexes_built_on_whole_columns_equal_the_loops(
    schools: list[str], upns: list[str], more: list[str]
) -> None:
    """`_Table.index` / `by_school` (runs of equal neighbours), `_at` and the run's pupil index
    (a dict over zipped columns) give what the loops over the rows give, keys in the same
    order; blanks, runs broken and resumed, rows appended."""
    n = min(len(schools), len(upns))
    frame = pd.DataFrame(
        {"school": schools[:n], "upn": upns[:n], "leaving_year": [str(i % 3) for i in range(n)]}
    )
    table = merge._Table(frame, load_template().tab("destinations"))
    loop: dict[str, list[int]] = {}
    for i, school in enumerate(schools[:n]):
        loop.setdefault(school, []).append(i)
    got = table.index("school")
    assert got == loop and list(got) == list(loop)
    for school in more:
        table.append({"school": school})
        loop.setdefault(school, []).append(len(table) - 1)
    got = table.by_school()
    assert got == loop and list(got) == list(loop)
    want_at = {k: i for i, k in enumerate(upns[:n]) if k}
    assert list(merge._at(upns[:n]).items()) == list(want_at.items())
    run = merge._Run({"destinations": frame}, load_template())
    years = [str(i % 3) for i in range(n)]
    want = {(u, y): i for i, (u, y) in enumerate(zip(upns[:n], years, strict=True)) if u}
    assert list(run.pupil_at.items()) == list(want.items())
    assert run.school_rows == table.index("school")


def test_an_index_of_a_column_the_tab_lacks() -> None:
    table = merge._Table(pd.DataFrame({"upn": ["a", "b"]}), load_template().tab("destinations"))
    assert table.index("school") == {"": [0, 1]} == table.by_school()
    empty = merge._Table(pd.DataFrame({"upn": []}), load_template().tab("destinations"))
    assert empty.index("school") == {} == empty.by_school()


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    scan=st.sampled_from((0, 16, 10**6)),
)
def test_rows_merged_again_equal_the_loop(seed: int, scan: int) -> None:
    """`_again` (cells scanned in C for a few ids and pupils, else one pass) gives the
    positions a loop over the school's logged rows gives."""
    rng = random.Random(seed)
    n = rng.randint(0, 40)
    logged = sorted(rng.sample(range(100), n))
    rids = [f"r{j}" for j in range(n)]  # one row per id
    upns = [rng.choice(("", "U1", "U2", "U3", "U4")) for _ in range(n)]
    years = [rng.choice(("2025", "2026")) for _ in range(n)]
    ids = {f"r{rng.randrange(60)}" for _ in range(rng.randint(0, 6))}
    edited = [logged[j] for j in range(n) if rids[j] in ids]
    touched = {(rng.choice(("U1", "U2", "U5")), rng.choice(("2025", "2026"))) for _ in range(3)}
    touched = set(rng.sample(sorted(touched), rng.randint(0, len(touched))))
    want = [
        j for j in range(n) if rids[j] in ids or (upns[j], years[j]) in touched
    ]  # fmt: skip
    old = merge._SCAN_AT_MOST
    try:
        merge._SCAN_AT_MOST = scan
        got = merge._again(logged, ids, edited, touched, tuple(rids), tuple(upns), tuple(years))
    finally:
        merge._SCAN_AT_MOST = old
    assert got == want


_CHANGES = st.lists(
    st.tuples(st.sampled_from(DEST + LOG + RAW + test_merge_memo.MORE), st.integers(0, 2**32)),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from((3, 4, 11)), before=_CHANGES, between=_CHANGES)
def test_nights_merged_from_memos_with_rows_found_by_one_pass(
    seed: int, before: list[tuple[str, int]], between: list[tuple[str, int]]
) -> None:
    """test_merge_memo's two-night equivalence with `_again` always taking its one-pass branch
    (the small test nights otherwise take the scan)."""
    old = merge._SCAN_AT_MOST
    try:
        merge._SCAN_AT_MOST = 0
        tabs, raw = _first(seed)
        tabs = test_merge_memo._copy(tabs)
        raw = test_merge_memo._changed(tabs, raw, before)
        one = test_merge_memo._night(tabs, raw, LATER, {})
        tabs = test_merge_memo._copy(one.tabs)
        raw = test_merge_memo._changed(tabs, raw, between)
        two = test_merge_memo._night(tabs, raw, LATER + dt.timedelta(days=1), one.memo)
        test_merge_memo._night(
            test_merge_memo._copy(two.tabs), raw, LATER + dt.timedelta(days=2), two.memo
        )
    finally:
        merge._SCAN_AT_MOST = old


_ANY_TEXT = st.text(
    alphabet=st.sampled_from(["a", "é", "\x1f", "\ud800", "字", " ", "0"]), max_size=4
)


@settings(max_examples=300, deadline=None)
@given(
    cells=st.lists(_ANY_TEXT, max_size=8),
    more=st.lists(_ANY_TEXT, max_size=3),
    rows=st.lists(st.integers(0, 7), max_size=8),
)
def test_a_digest_is_the_hash_of_the_cells_joined(
    cells: list[str], more: list[str], rows: list[int]
) -> None:
    """mergememo.VERSION "1"'s digest of a column: blake2b (16 bytes) of its cells joined by
    the separator, UTF-8 (surrogates passed); rows appended add the separator and theirs; a
    cell holding the separator marks the digests unusable."""
    rows = [i for i in rows if i < len(cells)]
    picked = [cells[i] for i in rows]
    digests = mergememo.Digests()
    digests.feed(test_merge_memo._Columns({"c": cells}), ["c"], {"s": rows})
    want = hashlib.blake2b("\x1f".join(picked).encode("utf-8", "surrogatepass"), digest_size=16)
    assert digests.columns["s", "c"].digest() == want.digest()
    assert digests.ok == (not any("\x1f" in c for c in picked))
    digests.extend("s", ["c"], list(range(100, 100 + len(more))), {"c": more})
    whole = "\x1f".join(picked + more).encode("utf-8", "surrogatepass")
    assert digests.columns["s", "c"].digest() == hashlib.blake2b(whole, digest_size=16).digest()
    assert digests.ok == (not any("\x1f" in c for c in picked + more))


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 12),
    picked=st.lists(st.integers(0, 11), max_size=12, unique=True),
    writes=st.lists(st.tuples(st.integers(0, 13), st.sampled_from(("upn", "school"))), max_size=5),
    whole=st.lists(st.integers(0, 11), max_size=2),
)
def test_cells_now_equal_get(
    n: int, picked: list[int], writes: list[tuple[int, str]], whole: list[int]
) -> None:
    """`_cells_now` (the rows' cells as read, the written ones put in) gives `_Table.get` of
    each row, contiguous rows or not, cells written in the rows or elsewhere, whole rows."""
    frame = pd.DataFrame({"school": ["s"] * n, "upn": [f"u{i}" for i in range(n)]})
    table = merge._Table(frame, load_template().tab("destinations"))
    table.append({"school": "s", "upn": "new"})
    for i, key in writes:
        if i <= n:
            table.update(i, {key: f"w{i}"})
    for i in whole:
        if i < n:
            table.row(i)["upn"] = "whole"
    rows = sorted(i for i in picked if i < n)
    written = sorted(table.edits)
    for key in ("upn", "school", "leaving_year"):
        want = [table.get(i, key) for i in rows]
        assert list(merge._cells_now(table, rows, key, written)) == want
    contiguous = list(range(n // 3, n))
    want = [table.get(i, "upn") for i in contiguous]
    assert list(merge._cells_now(table, contiguous, "upn", written)) == want


def test_a_school_whose_log_row_a_later_school_takes_leaves_no_memo() -> None:
    """A response listed by a later school (later time) moves its log row out of the school
    that logged it, after that school's merge read it: that school's rows as left are not a
    fixed point of its merge (its pupil's contact details come from its other response the
    next night), so it leaves no memo and is merged in full next time, as the full merge is
    (found by test_merge_memo's hypothesis test: seed 11, a response stolen then a new one)."""
    tabs, raw = _first(11)
    one = test_merge_memo._night(test_merge_memo._copy(tabs), raw, LATER, {})
    tabs = test_merge_memo._copy(one.tabs)
    raw = test_merge_memo._changed(tabs, raw, [("resp_steal", 300336), ("resp_new", 300336)])
    two = test_merge_memo._night(tabs, raw, LATER + dt.timedelta(days=1), one.memo)
    assert two.memo["School 11-0"] == ""  # its log row was taken by School 11-1
    assert all(two.memo[s] for s in two.memo if s != "School 11-0")
    three = test_merge_memo._night(
        test_merge_memo._copy(two.tabs), raw, LATER + dt.timedelta(days=2), two.memo
    )
    assert "School 11-0" not in three.reused
    assert "School 11-0: Destinations row 30: contact details from the form" in three.changes
