"""`deadlines.entry_resolver` memoises by (school day, leaving year): it must give every response
the entry `entry_for_response` gives (issue 7), and log each distinct term-date warning once."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest

from gsync.deadlines import entry_for_response, entry_resolver, parse_rules
from tests.unit.test_deadlines import RULES, TERMS, rules_data

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")


def _moments(seed: int, n: int) -> list[tuple[dt.datetime | dt.date, int]]:
    """Responses over five years: aware (UTC, New York), naive and plain dates, many on the same
    day, many near midnight and the clock changes (where the UTC day is not the school day)."""
    rng = random.Random(seed)
    start = dt.datetime(2023, 6, 1, tzinfo=UTC)
    out: list[tuple[dt.datetime | dt.date, int]] = []
    for _ in range(n):
        moment = start + dt.timedelta(days=rng.randrange(5 * 365), minutes=rng.randrange(24 * 60))
        if rng.random() < 0.3:
            moment = moment.replace(hour=rng.choice((22, 23, 0)))
        kind = rng.random()
        value: dt.datetime | dt.date = moment
        if kind < 0.15:
            value = moment.astimezone(NEW_YORK)
        elif kind < 0.3:
            value = moment.replace(tzinfo=None)
        elif kind < 0.4:
            value = moment.date()
        out.append((value, rng.choice((2023, 2024, 2025, 2026, 2027, 2031))))
    return out


def _rules_variants() -> list[object]:
    closed = rules_data()
    closed["entries"][3]["form_fills"] = False  # validation: staff only
    redirected = rules_data()
    redirected["entries"][3].pop("form_fills")
    return [RULES, parse_rules(closed), parse_rules(redirected)]


@pytest.mark.parametrize("variant", range(3))
@pytest.mark.parametrize("terms", [TERMS, {}], ids=["configured", "no_term_dates"])
def test_resolver_gives_the_entry_of_entry_for_response(variant: int, terms: object) -> None:
    rules = _rules_variants()[variant]
    resolve = entry_resolver(rules, terms)  # type: ignore[arg-type]
    calls = _moments(variant, 3000)
    got = [resolve(s, y) for s, y in calls]  # type: ignore[arg-type]
    want = [entry_for_response(rules, terms, s, y) for s, y in calls]  # type: ignore[arg-type]
    assert got == want
    assert len(set(want)) >= 4  # several entries and None are met
    # Asked again (answers now memoised), in another order: the same.
    again = list(zip(calls, want, strict=True))
    random.Random(1).shuffle(again)
    assert [resolve(s, y) for (s, y), _ in again] == [w for _, w in again]  # type: ignore[arg-type]


def test_resolver_keyword_call_and_non_int_years_as_entry_for_response() -> None:
    resolve = entry_resolver(RULES, TERMS)
    moment = dt.datetime(2025, 9, 13, 8)
    assert resolve(moment, leaving_year=2025) == "actual_unvalidated"
    assert resolve(submitted=moment, leaving_year=2025) == "actual_unvalidated"
    # A float year is not memoised under the int's key (2025.0 == 2025): it fails as
    # entry_for_response fails, even after the int year was resolved.

    def outcome(run: Callable[[], object]) -> object:
        try:
            return run()
        except Exception as exc:
            return type(exc).__name__, str(exc)

    for when in (moment, dt.datetime(2025, 5, 1, 9, tzinfo=UTC)):
        want = outcome(lambda w=when: entry_for_response(RULES, TERMS, w, 2025.0))  # type: ignore[arg-type]
        assert isinstance(want, tuple)
        assert outcome(lambda w=when: resolve(w, 2025.0)) == want  # type: ignore[arg-type]


def test_resolver_logs_each_distinct_term_date_warning_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls = _moments(9, 400)
    caplog.set_level(logging.WARNING, logger="gsync.deadlines")
    for s, y in calls:
        entry_for_response(RULES, {}, s, y)  # type: ignore[arg-type]
    per_call = [r.getMessage() for r in caplog.records]
    caplog.clear()
    resolve = entry_resolver(RULES, {})
    for s, y in calls:
        resolve(s, y)  # type: ignore[arg-type]
    once = [r.getMessage() for r in caplog.records]
    assert len(per_call) > len(once) > 1
    assert sorted(once) == sorted(set(per_call))
    assert all("no term dates for" in m for m in once)
