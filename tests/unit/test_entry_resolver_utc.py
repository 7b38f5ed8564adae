"""`deadlines.entry_resolver` reads a UTC moment's school day through its UTC day's offset
(`_utc_day_offset`) instead of converting each moment to London: the same school day, hence the
same entry as `entry_for_response`, at every clock change, near midnight and at the calendar's
ends (issue 7)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import deadlines
from gsync.deadlines import entry_for_response, entry_resolver, school_day
from tests.unit.test_deadlines import RULES, TERMS

UTC = dt.UTC


def _changes(first: int, last: int) -> list[dt.datetime]:
    """The UTC hours at which London's offset changes, in the years `first`..`last`."""
    out = []
    moment = dt.datetime(first, 1, 1, tzinfo=UTC)
    end = dt.datetime(last + 1, 1, 1, tzinfo=UTC)
    before = moment.astimezone(deadlines.SCHOOL_TZ).utcoffset()
    while moment < end:
        moment += dt.timedelta(hours=1)
        now = moment.astimezone(deadlines.SCHOOL_TZ).utcoffset()
        if now != before:
            out.append(moment)
        before = now
    return out


def _day_by_offset(moment: dt.datetime) -> dt.date | None:
    offset = deadlines._utc_day_offset(moment)
    if offset is None:
        return None
    return dt.date.fromordinal((moment.toordinal() * 24 + moment.hour + offset) // 24)


def test_every_clock_change_since_1916_minute_by_minute() -> None:
    """Around each change (two days either side, every 13 minutes and each hour's last
    microsecond), the offset's day is school_day's, or the day is read the old way."""
    changes = _changes(1916, 2040)
    assert len(changes) > 200  # (double summer time, British Standard Time, ...)
    read_by_offset = 0
    for change in changes:
        moment = change - dt.timedelta(days=2)
        while moment < change + dt.timedelta(days=2):
            for m in (moment, moment.replace(minute=59, second=59, microsecond=999999)):
                day = _day_by_offset(m)
                if day is not None:
                    read_by_offset += 1
                    assert day == school_day(m), m
            moment += dt.timedelta(minutes=13)
    assert read_by_offset > 50_000  # most days hold no change


def test_days_holding_a_change_are_read_the_old_way() -> None:
    for change in _changes(2020, 2026):
        assert deadlines._utc_day_offset(change) is None
        assert deadlines._utc_day_offset(change - dt.timedelta(days=1)) is not None


@settings(max_examples=1000, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)))
def test_any_utc_moment(naive: dt.datetime) -> None:
    moment = naive.replace(tzinfo=UTC)
    day = _day_by_offset(moment)
    if day is not None:
        assert day == school_day(moment)


def test_the_calendars_ends_as_entry_for_response() -> None:
    """At the ends, where London's day is out of range, the resolver fails as it always did."""

    def outcome(run: object) -> object:
        try:
            return run()  # type: ignore[operator]
        except Exception as exc:
            return type(exc).__name__

    resolve = entry_resolver(RULES, TERMS)
    for moment in (
        dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(1, 1, 1, 0, 1, tzinfo=UTC),
        dt.datetime(1, 1, 1, 0, 2, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        dt.datetime(1847, 12, 1, 0, 0, tzinfo=UTC),  # London's mean time ends
        dt.datetime(1847, 11, 30, 23, 59, tzinfo=UTC),
    ):
        want = outcome(lambda m=moment: entry_for_response(RULES, TERMS, m, 2025))
        assert outcome(lambda m=moment: resolve(m, 2025)) == want, moment


def test_resolver_on_utc_moments_every_hour_of_a_year() -> None:
    """Every UTC hour (and its last microsecond) of a year, two cohorts, asked twice."""
    resolve = entry_resolver(RULES, TERMS)
    calls = []
    moment = dt.datetime(2024, 1, 1, tzinfo=UTC)
    while moment.year < 2025:
        for year in (2024, 2025):
            calls.append((moment, year))
            calls.append((moment.replace(minute=59, second=59, microsecond=999999), year))
        moment += dt.timedelta(hours=1)
    want = [entry_for_response(RULES, TERMS, s, y) for s, y in calls]
    assert len(set(want)) >= 4
    assert [resolve(s, y) for s, y in calls] == want
    assert [resolve(s, y) for s, y in reversed(calls)] == want[::-1]


def test_other_moments_keep_the_old_way() -> None:
    """A datetime subclass, another zone's moment of the same instant, a naive moment."""
    import pandas as pd

    resolve = entry_resolver(RULES, TERMS)
    base = dt.datetime(2025, 3, 30, 23, 30, tzinfo=UTC)  # a BST night: the next school day
    for moment in (
        base,
        pd.Timestamp(base),
        base.astimezone(dt.timezone(dt.timedelta(hours=5))),
        base.replace(tzinfo=None),
    ):
        for year in (2024, 2025, 2026):
            assert resolve(moment, year) == entry_for_response(RULES, TERMS, moment, year)
