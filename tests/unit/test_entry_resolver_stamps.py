"""Session 12 (W2): `deadlines.entry_resolver`'s `for_stamp` answers a stamped UTC time (the
form `responses.timestamp` writes) as the resolver answers the moment the merge reads from it,
kept per (UTC day and hour, leaving year) on days read through their offset; and the merge asks
it (for a school whose submission times are all stamps) with the same output as the frozen
merge asking the resolver itself."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import merge
from gsync.deadlines import STAMP_RESOLVER, StampError, entry_for_response, entry_resolver
from gsync.responses import STAMPED
from gsync.sample import DEFAULT_QUESTION_MAP
from tests.unit._reference_merge2 import merge as ref
from tests.unit.test_core_equivalence import NOW, TEMPLATE, _make_trust
from tests.unit.test_deadlines import RULES, TERMS
from tests.unit.test_entry_resolver_utc import _changes
from tests.unit.test_merge_equivalence import _same_plan

UTC = dt.UTC


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _read(stamp: str) -> dt.datetime | None:
    return merge._parse_time(stamp)


def _for_stamp(resolve: Any) -> Any:
    return getattr(resolve, STAMP_RESOLVER)


def test_for_stamp_around_every_clock_change() -> None:
    """Each clock change 2010-2030, every 17 minutes two days either side, asked in an order
    that warms each hour with another minute first: the resolver's answer for the moment read."""
    resolve = entry_resolver(RULES, TERMS)
    plain = entry_resolver(RULES, TERMS)
    stamps = []
    for change in _changes(2010, 2030):
        moment = change - dt.timedelta(days=2)
        while moment < change + dt.timedelta(days=2):
            stamps.append(_stamp(moment))
            stamps.append(_stamp(moment.replace(minute=59, second=59, microsecond=999000)))
            moment += dt.timedelta(minutes=17)
    rng = random.Random(7)
    rng.shuffle(stamps)
    for stamp in stamps:
        for year in (2024, 2025, 2026):
            moment = _read(stamp)
            assert moment is not None
            assert _for_stamp(resolve)(stamp, year) == plain(moment, year), stamp


@settings(max_examples=100, deadline=None)
@given(
    moments=st.lists(
        st.datetimes(
            min_value=dt.datetime(2023, 1, 1),
            max_value=dt.datetime(2027, 12, 31),
            timezones=st.just(UTC),
        ),
        min_size=1,
        max_size=40,
    ),
    years=st.lists(st.integers(2020, 2030), min_size=1, max_size=3),
)
def test_for_stamp_is_the_resolvers_answer(moments: list[dt.datetime], years: list[int]) -> None:
    resolve = entry_resolver(RULES, TERMS)
    for moment in moments + moments[::-1]:
        stamp = _stamp(moment)
        read = _read(stamp)
        assert read is not None
        for year in years:
            want = entry_for_response(RULES, TERMS, read, year)
            assert _for_stamp(resolve)(stamp, year) == want


@pytest.mark.parametrize(
    "stamp", ("2024-13-01T10:00:00.000Z", "2024-02-30T10:00:00.000Z", "2024-01-01T24:00:00.000Z")
)
def test_a_stamp_that_is_no_time(stamp: str) -> None:
    """The merge reads no time from it (`_parse_time`): `StampError`, never an answer."""
    assert _read(stamp) is None
    assert STAMPED.fullmatch(stamp)
    with pytest.raises(StampError):
        _for_stamp(entry_resolver(RULES, TERMS))(stamp, 2025)


def _plans(tabs: dict[str, Any], night: list[tuple[str, list[dict[str, Any]]]]) -> Any:
    new = merge.plan_sync_many(
        tabs, [merge.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in night],
        entry_for=entry_resolver(RULES, TERMS), now=NOW, template=TEMPLATE,
    )  # fmt: skip
    old = ref.plan_sync_many(
        tabs, [ref.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in night],
        entry_for=entry_resolver(RULES, TERMS), now=NOW, template=TEMPLATE,
    )  # fmt: skip
    _same_plan(new, old)
    return new


@settings(max_examples=25, deadline=None)
@given(
    seed=st.sampled_from((3, 4, 11)),
    odd=st.lists(
        st.tuples(
            st.integers(0, 10**6),
            st.sampled_from(
                (
                    "2024-13-01T10:00:00.000Z",
                    "2024-06-01T10:00:00Z",
                    "2024-06-01 10:00",
                    "junk",
                    "2024-03-31T00:59:59.999Z",
                    "2024-10-27T01:00:00.000Z",
                    "",
                )
            ),
        ),
        max_size=4,
    ),
    shift=st.integers(-400, 400),
)
def test_the_merge_asking_for_stamp_equals_the_frozen_merge(
    seed: int, odd: list[tuple[int, str]], shift: int
) -> None:
    """Submission times moved about the year (clock changes included), some times not stamps
    (the school's times then resolved as before) or no time at all."""
    trust = _make_trust(seed, sustained=seed % 2 == 1)
    night = [(s.school, [dict(r) for r in s.form_responses()]) for s in trust.samples]
    for _, responses in night:
        for r in responses:
            for key in ("createTime", "lastSubmittedTime"):
                if key in r and isinstance(r[key], str):
                    moment = dt.datetime.fromisoformat(r[key].replace("Z", "+00:00"))
                    r[key] = _stamp(moment + dt.timedelta(days=shift, minutes=shift * 7))
    flat = [r for _, responses in night for r in responses]
    for k, text in odd:
        if flat:
            flat[k % len(flat)]["lastSubmittedTime"] = text
    plan = _plans(trust.tabs, night)
    assert plan.counts["new"] > 0


def test_a_stamp_of_no_time_in_every_school() -> None:
    """Every school's first response stamped with no valid time, the others stamps: the
    school's times are asked of `for_stamp`, and that response gets no entry (`no_entry`)."""
    trust = _make_trust(11, sustained=True)
    night = [(s.school, [dict(r) for r in s.form_responses()]) for s in trust.samples]
    for _, responses in night:
        for r in responses[:3]:
            r["lastSubmittedTime"] = "2024-13-01T10:00:00.000Z"
    asked: list[str] = []
    resolve = entry_resolver(RULES, TERMS)
    real = _for_stamp(resolve)

    def for_stamp(stamp: str, year: int) -> str | None:
        asked.append(stamp)
        return real(stamp, year)  # type: ignore[no-any-return]

    setattr(resolve, STAMP_RESOLVER, for_stamp)
    new = merge.plan_sync_many(
        trust.tabs, [merge.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in night],
        entry_for=resolve, now=NOW, template=TEMPLATE,
    )  # fmt: skip
    old = ref.plan_sync_many(
        trust.tabs, [ref.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in night],
        entry_for=entry_resolver(RULES, TERMS), now=NOW, template=TEMPLATE,
    )  # fmt: skip
    _same_plan(new, old)
    assert "2024-13-01T10:00:00.000Z" in asked and len(set(asked)) > 10
    assert new.counts["exceptions"] > 0
