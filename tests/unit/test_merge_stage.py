"""Brief R5's shortcuts in the steady night's merge stage give what the plain code gives.

`merge._not_yet_logged` finds a response listed with its logged id and time by one lookup when
every logged time of the school is in `timestamp`'s form (`_all_stamped`, which reads the times
as one block of bytes); here both are checked against the plain rule of the frozen merge (a
response is merged again unless the log holds its id with `timestamp` of its time) on logs and
listings that break the shortcut's assumptions one by one.
"""

from __future__ import annotations

import random
import re
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gsync import merge
from gsync.template import load_template
from tests.unit._reference_merge2 import responses as ref_responses

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
    assert merge._all_stamped(stamps)
    assert merge._all_stamped([BASE])
    for text in NEAR:
        for at in (0, 17, 39):
            times = [*stamps[:at], text, *stamps[at:]]
            want = all(_REGEX.fullmatch(t) for t in times)
            assert merge._all_stamped(times) == want, (repr(text), at)


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
    assert merge._all_stamped(times) == all(_REGEX.fullmatch(t) for t in times)


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
