"""A school merged from its memo (gsync.mergememo) gives what the full merge gives.

Each night here runs `plan_sync_many` twice on the same tabs and responses: in full, and with
the memos the previous night left. Tabs, counts, changes and per-school counts must be equal,
after random mixes of what a night between two runs can bring (test_merge_steady's staff edits,
broken hashes, duplicate pupils, moved emails, hand-edited log rows, edited, new, stolen and
dropped responses, plus edits of Exceptions and Sustained rows, deleted and reordered rows).
Guards check that the memo is used (schools reused) and dropped where it must be.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync import merge, mergememo
from gsync.sample import DEFAULT_QUESTION_MAP
from tests.unit.test_core_equivalence import TEMPLATE, _entry_for
from tests.unit.test_merge_equivalence import _same_plan
from tests.unit.test_merge_steady import DEST, LATER, LOG, RAW, Night, _apply, _first

KEY = "rules v1"


def _night(
    tabs: dict[str, pd.DataFrame], raw: Night, now: dt.datetime, memo: dict[str, str]
) -> merge.SyncPlan:
    """The night merged from `memo`, checked equal to the full merge; its plan."""
    inputs = [merge.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in raw]
    full = merge.plan_sync_many(tabs, inputs, entry_for=_entry_for, now=now, template=TEMPLATE)
    fast = merge.plan_sync_many(
        tabs, inputs, entry_for=_entry_for, now=now, template=TEMPLATE, memo=memo, memo_key=KEY
    )
    _same_plan(fast, full)
    return fast


def _change_more(tabs: dict[str, pd.DataFrame], kind: str, rng: random.Random) -> None:
    """Changes test_merge_steady does not make: Exceptions and Sustained rows, row order."""
    if kind in ("exc_reason", "exc_status", "exc_kind") and len(tabs["exceptions"]):
        exc = tabs["exceptions"]
        i = rng.choice(list(exc.index))
        column = {"exc_reason": "reason", "exc_status": "status", "exc_kind": "kind"}[kind]
        exc.loc[i, column] = rng.choice(("", "resolved", "unmatched", "checked by staff"))
    elif kind == "sust_edit" and "sustained" in tabs and len(tabs["sustained"]):
        sus = tabs["sustained"]
        i = rng.choice(list(sus.index))
        sus.loc[i, rng.choice(("destination", "provider", "sync_hash", "check"))] = "Edited"
    elif kind == "dest_sort":  # staff sort Destinations
        dest = tabs["destinations"]
        tabs["destinations"] = dest.sample(frac=1.0, random_state=rng.randrange(1000))
        tabs["destinations"] = tabs["destinations"].reset_index(drop=True)
    elif kind == "log_drop" and len(tabs["responses"]):  # a log row deleted
        log = tabs["responses"]
        tabs["responses"] = log.drop(index=rng.choice(list(log.index))).reset_index(drop=True)
    elif kind == "dest_drop" and len(tabs["destinations"]):  # a pupil's row deleted
        dest = tabs["destinations"]
        dest = dest.drop(index=rng.choice(list(dest.index)))
        tabs["destinations"] = dest.reset_index(drop=True)


MORE = ("exc_reason", "exc_status", "exc_kind", "sust_edit", "dest_sort", "log_drop", "dest_drop")


def _changed(tabs: dict[str, pd.DataFrame], raw: Night, changes: list[tuple[str, int]]) -> Night:
    for kind, salt in changes:
        rng = random.Random(salt)
        if kind in MORE:
            _change_more(tabs, kind, rng)
        else:
            raw = _apply(tabs, raw, kind, rng)
    return raw


def _left_as_read(plan: merge.SyncPlan, raw: Night) -> None:
    """Each memo the night left (digests carried over and extended) holds the fingerprint that
    reading its tabs afresh gives."""
    run = merge._Run(plan.tabs, TEMPLATE)
    fresh = merge._Memos(run, KEY, plan.memo, [s for s, _ in raw])
    for school, text in plan.memo.items():
        if text:
            memo = mergememo.loads(text)
            assert memo is not None and fresh.usable
            assert fresh.fingerprints[school] == memo.fingerprint, school


def _copy(tabs: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in tabs.items()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from((3, 4, 11)),
    before=st.lists(
        st.tuples(st.sampled_from(DEST + LOG + RAW + MORE), st.integers(0, 2**32)), max_size=12
    ),
    between=st.lists(
        st.tuples(st.sampled_from(DEST + LOG + RAW + MORE), st.integers(0, 2**32)), max_size=12
    ),
)
def test_nights_merged_from_memos_equal_full_merges(
    seed: int, before: list[tuple[str, int]], between: list[tuple[str, int]]
) -> None:
    tabs, raw = _first(seed)
    tabs = _copy(tabs)
    raw = _changed(tabs, raw, before)
    one = _night(tabs, raw, LATER, {})  # no memo yet: every school in full
    assert not one.reused
    tabs = _copy(one.tabs)
    raw = _changed(tabs, raw, between)
    two = _night(tabs, raw, LATER + dt.timedelta(days=1), one.memo)
    _left_as_read(two, raw)
    # And a night with nothing new: every school merged from its memo, when it has one.
    three = _night(_copy(two.tabs), raw, LATER + dt.timedelta(days=2), two.memo)
    # Only a school with a memo is merged from it (whether one is, the tests below show).
    assert set(three.reused) <= {s for s, text in two.memo.items() if text}


def test_a_steady_night_reuses_every_school_and_merges_only_what_is_new() -> None:
    tabs, raw = _first(4)
    one = _night(_copy(tabs), raw, LATER, {})
    assert set(one.memo) == {s for s, _ in raw} and all(one.memo.values())
    # A new response in the first school, an edited one in the second.
    rng = random.Random(5)
    raw2 = _apply(_copy(one.tabs), raw, "resp_edit", rng)
    raw2 = _apply(_copy(one.tabs), raw2, "resp_new", rng)
    two = _night(_copy(one.tabs), raw2, LATER + dt.timedelta(days=1), one.memo)
    logged = one.tabs["responses"]
    for school, _ in raw:
        mine = int((logged["school"] == school).sum())
        assert 0 < two.reused[school] <= mine
    assert sum(two.reused.values()) >= len(logged) - 12
    assert two.counts["unchanged"] >= sum(two.reused.values())


def test_a_staff_edit_drops_only_that_schools_memo() -> None:
    tabs, raw = _first(11)
    one = _night(_copy(tabs), raw, LATER, {})
    tabs = _copy(one.tabs)
    dest = tabs["destinations"]
    school = raw[0][0]
    i = dest.index[(dest["school"] == school) & (dest["sync_hash"] != "")][0]
    dest.loc[i, "ct_consent" if "ct_consent" in dest.columns else "consent"] = "N?"
    two = _night(tabs, raw, LATER + dt.timedelta(days=1), one.memo)
    assert school not in two.reused
    assert set(two.reused) == {s for s, _ in raw} - {school}
    # Another rules key: no memo holds.
    inputs = [merge.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in raw]
    other = merge.plan_sync_many(
        two.tabs, inputs, entry_for=_entry_for, now=LATER, template=TEMPLATE,
        memo=two.memo, memo_key="rules v2",
    )  # fmt: skip
    assert not other.reused


def test_a_pupil_listed_twice_stops_every_memo() -> None:
    tabs, raw = _first(3)
    one = _night(_copy(tabs), raw, LATER, {})
    tabs = _copy(one.tabs)
    dest = tabs["destinations"]
    tabs["destinations"] = pd.concat([dest, dest.iloc[[0]]], ignore_index=True)
    two = _night(tabs, raw, LATER + dt.timedelta(days=1), one.memo)
    assert not two.reused and not any(two.memo.values())


def test_memo_text_round_trip_and_what_it_refuses() -> None:
    memo = mergememo.SchoolMemo(
        "ab" * 16, frozenset({("U1", "2026", "ct"), ("U2", "2025", "s:y1")})
    )
    assert mergememo.loads(memo.dumps()) == memo
    for text in ("", "junk", "[]", '{"v": "0", "fp": "x", "conflicts": []}',
                 '{"v": "1", "fp": 3, "conflicts": []}', '{"v": "1", "fp": "x", "conflicts": [[1]]}'):  # fmt: skip
        assert mergememo.loads(text) is None
    huge = mergememo.SchoolMemo("x", frozenset((f"U{i}", "2026", "ct") for i in range(5000)))
    assert huge.dumps() == ""
    state = mergememo.to_state({"North": "a", "South": ""})
    assert mergememo.from_state({**state, "template_version": "3"}) == {"North": "a", "South": ""}


def test_a_cell_holding_the_separator_is_not_vouched_for() -> None:
    tabs, raw = _first(4)
    tabs = _copy(tabs)
    dest: Any = tabs["destinations"]
    dest.loc[dest.index[0], "legal_forename"] = "a\x1fb"  # a cell the merge reads, never writes
    one = _night(tabs, raw, LATER, {})
    assert one.memo[str(dest.loc[dest.index[0], "school"])] == ""


def _later(r: dict[str, Any], day: int, **changes: Any) -> dict[str, Any]:
    """A resubmission of `r` on 20 + `day` August 2025 (later than the sample's, still before the
    2025 leavers' 1 September; the same minute, so the same entry), answers changed (question
    key -> text) and other fields replaced."""
    stamp = f"2025-08-{20 + day:02d}" + str(r["lastSubmittedTime"])[10:]
    answers = dict(r["answers"])
    for key, text in changes.pop("answers", {}).items():
        answers[DEFAULT_QUESTION_MAP[key]] = {"textAnswers": {"answers": [{"value": text}]}}
    return {**r, "answers": answers, "lastSubmittedTime": stamp, **changes}


def _emailed(tabs: dict[str, pd.DataFrame], raw: Night) -> tuple[str, list[dict[str, Any]]]:
    """The first school's responses matched by school email to a current-intended entry."""
    log = tabs["responses"]
    school, responses = raw[0]
    good = set(
        log.loc[
            (log["school"] == school)
            & (log["match_method"] == "email")
            & (log["entry"] == "current_intended")
            & (log["leaving_year"] == "2025"),
            "response_id",
        ]
    )
    return school, [r for r in responses if r["responseId"] in good]


def test_an_edited_response_that_moves_pupil_is_merged_again_for_both_pupils() -> None:
    tabs, raw = _first(4)
    school, emailed = _emailed(tabs, raw)
    first, other = emailed[0], emailed[1]
    newer = _later(first, 1, responseId="moved-1", answers={"course": "Moved course"})
    raw1 = [(s, [*rs, newer] if s == school else rs) for s, rs in raw]
    one = _night(_copy(tabs), raw1, LATER, {})
    # The newer submission now comes from another pupil's account: the first pupil's entry goes
    # back to their own response, which the memo alone would not show.
    moved = _later(newer, 2, respondentEmail=other["respondentEmail"])
    raw2 = [(s, [*rs[:-1], moved] if s == school else rs) for s, rs in raw1]
    two = _night(_copy(one.tabs), raw2, LATER + dt.timedelta(days=1), one.memo)
    assert two.reused[school] > 0
    assert two.counts["applied"] >= 2


def test_conflicts_of_untouched_pupils_are_counted_again() -> None:
    tabs, raw = _first(4)
    school, emailed = _emailed(tabs, raw)
    one = _night(_copy(tabs), raw, LATER, {})
    tabs = _copy(one.tabs)
    dest = tabs["destinations"]
    upn = one.tabs["responses"].set_index("response_id").loc[emailed[0]["responseId"], "upn"]
    dest.loc[dest["upn"] == upn, "current_intended_course"] = "Staff said"
    newer = _later(emailed[0], 1, responseId="newer-1", answers={"course": "Plumbing"})
    raw2 = [(s, [*rs, newer] if s == school else rs) for s, rs in raw]
    two = _night(tabs, raw2, LATER + dt.timedelta(days=1), one.memo)
    assert two.counts["conflicts"] >= 1 and school not in two.reused  # staff edited its rows
    three = _night(_copy(two.tabs), raw2, LATER + dt.timedelta(days=2), two.memo)
    assert three.reused[school] > 0
    assert three.counts["conflicts"] == two.counts["conflicts"]


def test_a_synced_exception_cell_edited_by_staff_drops_the_memo() -> None:
    tabs, raw = _first(4)
    one = _night(_copy(tabs), raw, LATER, {})
    tabs = _copy(one.tabs)
    exc = tabs["exceptions"]
    held = exc.index[exc["kind"].isin(["unmatched", "invalid", "ambiguous"])]
    school = str(exc.loc[held[0], "school"])
    exc.loc[held[0], "reason"] = "typed over"  # the full merge writes it back
    # Staff's own cell in another school's exception: no reason to merge that school in full.
    other = next(i for i in held if str(exc.loc[i, "school"]) != school)
    exc.loc[other, "status"] = "checked"
    two = _night(tabs, raw, LATER + dt.timedelta(days=1), one.memo)
    assert school not in two.reused
    assert str(exc.loc[other, "school"]) in two.reused


def test_a_school_listed_twice_is_merged_in_full_the_second_time() -> None:
    tabs, raw = _first(4)
    one = _night(_copy(tabs), raw, LATER, {})
    school, emailed = _emailed(one.tabs, raw)
    newer = _later(emailed[0], 1, responseId="twice-1", answers={"course": "Twice"})
    raw2 = [(s, [*rs, newer] if s == school else rs) for s, rs in raw]
    twice = [*raw2, (school, raw2[0][1])]
    two = _night(_copy(one.tabs), twice, LATER + dt.timedelta(days=1), one.memo)
    assert two.reused[school] > 0  # the first time, from its memo
    assert two.counts["new"] == 1


class _Columns:
    def __init__(self, columns: dict[str, list[str]]) -> None:
        self.columns = columns

    def column(self, key: str) -> list[str]:
        return self.columns[key]


_TEXT = st.text(alphabet="ab\x1f ", max_size=3)


@settings(max_examples=150, deadline=None)
@given(
    cells=st.lists(st.tuples(_TEXT, _TEXT, st.sampled_from("xyz")), max_size=12),
    more=st.lists(st.tuples(_TEXT, _TEXT, st.sampled_from("xyz")), max_size=4),
    rewrite=st.lists(st.tuples(st.integers(0, 11), _TEXT), max_size=3),
)
def test_digests_carried_over_equal_digests_taken_afresh(
    cells: list[tuple[str, str, str]],
    more: list[tuple[str, str, str]],
    rewrite: list[tuple[int, str]],
) -> None:
    """`Digests.rehash` and `extend` give what a fresh `feed` of the rows as they end gives, a
    school with no rows included; a cell holding the separator marks the digests unusable."""
    keys = ("a", "b")
    rows = [list(c) for c in cells]
    before = {"a": [r[0] for r in rows], "b": [r[1] for r in rows]}
    mine = {s: [i for i, r in enumerate(rows) if r[2] == s] for s in "xyz"}
    carried = mergememo.Digests()
    carried.feed(_Columns(before), keys, mine)
    for i, text in rewrite:
        if i < len(rows):
            rows[i][1] = text
    n = len(rows)
    rows += [list(c) for c in more]
    after = {"a": [r[0] for r in rows], "b": [r[1] for r in rows]}
    for school in "xyz":
        kept = mine[school]
        carried.rehash(school, "b", [after["b"][i] for i in kept])
        grown = [i for i in range(n, len(rows)) if rows[i][2] == school]
        carried.extend(school, keys, grown, {k: [after[k][i] for i in grown] for k in keys})
    fresh = mergememo.Digests()
    fresh.feed(
        _Columns(after), keys, {s: [i for i, r in enumerate(rows) if r[2] == s] for s in "xyz"}
    )
    clean = not any("\x1f" in c for r in rows for c in r[:2]) and not any(
        "\x1f" in c for c in before["b"]
    )
    assert fresh.ok == (not any("\x1f" in c for r in rows for c in r[:2]))
    if clean:
        assert carried.ok
        for school in "xyz":
            assert carried.summary(school, keys) == fresh.summary(school, keys)


def test_the_run_is_let_go_when_the_merge_returns(monkeypatch: Any) -> None:
    """The sync pauses the cyclic collector: a cycle between the run and its memos would keep
    every row of the run (the first night's 81k appended rows) alive until the next collection."""
    import gc
    import weakref

    runs: list[Any] = []
    made = merge._Run.__init__

    def remember(self: Any, *args: Any) -> None:
        made(self, *args)
        runs.append(weakref.ref(self))

    monkeypatch.setattr(merge._Run, "__init__", remember)
    tabs, raw = _first(4)
    gc.disable()
    try:
        _night(_copy(tabs), raw, LATER, {})
        assert runs and all(r() is None for r in runs)
    finally:
        gc.enable()
