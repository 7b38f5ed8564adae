"""Brief P3's fast merge gives the old output: normalise, match, merge and rounds against frozen
copies of themselves (tests/unit/_reference_merge2, commit 6cea1cc).

The seeded trusts of test_core_equivalence run through both `plan_sync_many`s for two nights;
the functions are also compared on hand-made edge cases (loose cells, odd timestamps, non-ASCII
names, duplicate pupils, schools listed twice, staff edits to key cells).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from gsync import matching as merge_matching
from gsync import merge, rounds
from gsync import responses as merge_responses
from gsync.sample import DEFAULT_QUESTION_MAP
from tests.unit._reference_merge2 import matching as ref_matching
from tests.unit._reference_merge2 import merge as ref
from tests.unit._reference_merge2 import responses as ref_responses
from tests.unit._reference_merge2 import rounds as ref_rounds
from tests.unit.test_core_equivalence import (
    NOW,
    RULES,
    SEEDS,
    TEMPLATE,
    _entry_for,
    _make_trust,
    _staff_edits,
)


def _same_plan(new: Any, old: Any) -> None:
    assert sorted(new.tabs) == sorted(old.tabs)
    for key in old.tabs:
        assert_frame_equal(new.tabs[key], old.tabs[key], obj=key)
    assert new.counts == old.counts
    assert new.changes == old.changes
    assert new.by_school == old.by_school


def _both(tabs: dict[str, pd.DataFrame], inputs: list[tuple[str, list[dict[str, Any]]]],
          now: dt.datetime = NOW) -> Any:  # fmt: skip
    new = merge.plan_sync_many(
        tabs, [merge.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in inputs],
        entry_for=_entry_for, now=now, template=TEMPLATE,
    )  # fmt: skip
    old = ref.plan_sync_many(
        tabs, [ref.SchoolInput(s, r, DEFAULT_QUESTION_MAP) for s, r in inputs],
        entry_for=_entry_for, now=now, template=TEMPLATE,
    )  # fmt: skip
    _same_plan(new, old)
    return new


@pytest.mark.parametrize("seed", SEEDS)
def test_plan_sync_many_equals_the_frozen_one(seed: int) -> None:
    trust = _make_trust(seed, sustained=seed != 11)
    first = [(s.school, s.form_responses()) for s in trust.samples]
    plan = _both(trust.tabs, first)
    assert plan.counts["new"] > 0 and plan.counts["applied"] > 0
    edited = _staff_edits(plan.tabs, seed)
    second = [(s.school, s.form_responses(edited=True)) for s in trust.samples]
    again = _both(edited, second, NOW + dt.timedelta(days=1))
    assert again.counts["updated"] + again.counts["unchanged"] > 0


def _loosen(tabs: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    """Frames as a caller might hand-make them: blanks as NaN/None, numbers, a `str`-dtype
    column, an extra column, a missing template column, a non-range index."""
    rng = random.Random(seed)
    out = {k: v.copy() for k, v in tabs.items()}
    dest = out["destinations"]
    for col in ("school_email", "preferred_forename", "telephone", "sync_hash", "phase"):
        for i in rng.sample(list(dest.index), 6):
            dest.loc[i, col] = rng.choice((None, float("nan")))
    if "comments" not in dest.columns:
        dest.insert(3, "comments", [rng.choice(("", "rang", 7)) for _ in range(len(dest))])
    dest["legal_surname"] = dest["legal_surname"].astype("str")
    dest.index = [f"x{i}" for i in range(len(dest))]
    log = out["responses"]
    if len(log):
        for i in rng.sample(list(log.index), min(len(log), 5)):
            log.loc[i, "reason"] = None
        log.loc[log.index[0], "stated_leaving_year"] = 2026
    out["exceptions"] = out["exceptions"].drop(columns=["note"], errors="ignore")
    return out


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_loose_frames_give_the_same_merge(seed: int) -> None:
    trust = _make_trust(seed)
    first = [(s.school, s.form_responses()) for s in trust.samples]
    plan = _both(_loosen(trust.tabs, seed), first)
    second = [(s.school, s.form_responses(edited=True)) for s in trust.samples]
    _both(_loosen(_staff_edits(plan.tabs, seed), seed + 1), second, NOW + dt.timedelta(days=1))


def test_missing_tabs_and_empty_inputs() -> None:
    trust = _make_trust(SEEDS[0], sustained=False)
    only_dest = {"destinations": trust.tabs["destinations"]}
    _both(only_dest, [(s.school, s.form_responses()) for s in trust.samples])
    _both(only_dest, [(s.school, []) for s in trust.samples])
    _both({}, [("Nowhere", trust.samples[0].form_responses())])
    _both(trust.tabs, [])


def test_a_school_twice_and_a_response_id_moving_school() -> None:
    """A response id logged under one school and then listed by another moves its log row (and
    its exceptions) to that school: later schools must see the rows where they now are."""
    trust = _make_trust(SEEDS[2])
    a, b = trust.samples[0], trust.samples[1]
    raw_a, raw_b = a.form_responses(), b.form_responses()
    later = "2026-07-30T10:00:00Z"
    stolen = [{**r, "lastSubmittedTime": later} for r in raw_a[:6]]
    plan = _both(trust.tabs, [(a.school, raw_a), (b.school, raw_b + stolen), (a.school, raw_a)])
    # Staff move exception and log rows between schools (typos in the school cell).
    tabs = {k: v.copy() for k, v in plan.tabs.items()}
    exc, log = tabs["exceptions"], tabs["responses"]
    for i in exc.index[::3]:
        exc.loc[i, "school"] = b.school if exc.loc[i, "school"] == a.school else a.school
    for i in log.index[::4]:
        log.loc[i, "school"] = b.school if log.loc[i, "school"] == a.school else ""
    again = [(s.school, s.form_responses(edited=True)) for s in trust.samples]
    _both(tabs, [*again, again[0], (b.school, stolen)], NOW + dt.timedelta(days=1))


NAMES = (
    "Renée Fernández-Heath", "  JO-ELLEN o'dunmore ", "Zoë", "ﬁona ǅemal", "Ｍａｒｙ", "Łukasz Ørsted",
    "Straße", "İlkay", "Σίσυφος", "x\tY\n3", "a\u0301b", "", "---", "Anne-Marie 2nd", "\x00~!@#$%^",
    "Ĳsbrand", "名前", "Dž", "Ǆ", "ß", "ﬀ", "Ωmega", "e\u0308", "Ⅻ", "½",
)  # fmt: skip


def test_name_key_equals_the_frozen_one() -> None:
    for text in (*NAMES, *(chr(i) for i in range(0x250))):
        assert merge_matching.name_key(text) == ref_matching.name_key(text), repr(text)


def _pupils() -> pd.DataFrame:
    rows = []
    for i, name in enumerate(NAMES):
        fore, _, sur = name.strip().partition(" ")
        rows.append({"school": "North" if i % 5 else "South", "upn": f"U{i % 17}",
                     "legal_forename": fore, "legal_surname": sur or "Smith",
                     "preferred_forename": (fore[:3] if i % 3 == 0 else None),
                     "preferred_surname": (float("nan") if i % 4 == 0 else sur.upper()),
                     "date_of_birth": f"2010-01-{1 + i % 3:02d}",
                     "school_email": (f"u{i % 7}@north.sch.uk" if i % 6 else ""),
                     "leaving_year": 2025 + i % 2})  # fmt: skip
    rows.append({"school": "North", "upn": None, "legal_forename": "Zoë", "legal_surname": "Smith",
                 "date_of_birth": "2010-01-01", "leaving_year": "2026"})  # fmt: skip
    return pd.DataFrame(rows)


def _asks() -> pd.DataFrame:
    rows = []
    for i, name in enumerate((*NAMES, "zoe smith", "ZOË SMITH")):
        rows.append({"response_id": f"r{i}", "full_name": name if i % 7 else f" {name} ",
                     "date_of_birth": f"2010-01-{1 + i % 3:02d}" if i % 9 else "",
                     "respondent_email": (f"U{i % 9}@NORTH.sch.uk" if i % 2 else None),
                     "leaving_year": ("2025", "2026", "", None, 2026)[i % 5],
                     "issues": "bad_date_of_birth" if i % 11 == 0 else "x"})  # fmt: skip
    return pd.DataFrame(rows, dtype=object)


@pytest.mark.parametrize("school", ["North", "South", ""])
def test_match_responses_equals_the_frozen_one(school: str) -> None:
    pupils, asks = _pupils(), _asks()
    for dest in (pupils, pupils.drop(columns=["school"]), pupils.drop(columns=["school_email"])):
        new = merge_matching.match_responses(asks, dest, school=school)
        old = ref_matching.match_responses(asks, dest, school=school)
        assert_frame_equal(new, old)
    statuses = merge_matching.match_responses(asks, pupils, school="North")["match_status"]
    assert {"matched", "ambiguous", "unmatched"} <= set(statuses)


STAMPS = (
    "2026-06-01T10:00:00Z", "2026-06-01T10:00:00.5Z", "2026-06-01T10:00:00.12Z",
    "2026-06-01T10:00:00.123Z", "2026-06-01T10:00:00.1234Z", "2026-06-01T10:00:00.123456Z",
    "2026-06-01T10:00:00.1234567Z", "2026-06-01T10:00:00.123456789Z", "2026-06-01T10:00:00.Z",
    "2026-06-01T10:00:00+01:00", "2026-06-01T10:00:00.999-05:30", "2026-06-01T10:00:00",
    "2026-06-01 10:00:00Z", "2026-06-01", "0999-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z",
    "1000-01-01T00:00:00Z", "2026-02-30T10:00:00Z", "2026-06-01T24:00:00Z", "2026-06-01T23:59:60Z",
    "2026-06-01T10:00Z", "2026-06-01T10Z", " 2026-06-01T10:00:00.250Z ", "2026-06-01t10:00:00z",
    "2026-06-01T10:00:00ZZ", "2026-06-01T10:00:00z", "٢٠٢٦-06-01T10:00:00Z", "20260601T100000Z",
    "2026-W22-1T10:00:00Z", "yesterday", "", None,
)  # fmt: skip


def test_timestamp_equals_the_frozen_one() -> None:
    for text in STAMPS:
        assert merge_responses.timestamp(text) == ref_responses.timestamp(text), repr(text)  # type: ignore[arg-type]


def _raw(i: int, when: Any, **answers: Any) -> dict[str, Any]:
    return {"responseId": f"r{i % 9}", "createTime": "2026-05-01T09:00:00Z",
            "lastSubmittedTime": when, "respondentEmail": f" p{i}@pupils.sch.uk ",
            "answers": {DEFAULT_QUESTION_MAP[k]: v for k, v in answers.items()}}  # fmt: skip


def _text(*values: Any) -> dict[str, Any]:
    return {"textAnswers": {"answers": [{"value": v} for v in values]}}


ODD_ANSWERS: tuple[Any, ...] = (
    None, {}, {"textAnswers": None}, {"textAnswers": {"answers": None}},
    {"textAnswers": {"answers": []}}, {"textAnswers": {"answers": ["loose", {"value": "kept"}]}},
    {"textAnswers": {"answers": [{"nope": 1}]}}, {"textAnswers": {"answers": [{"value": 2026}]}},
    {"textAnswers": {"answers": [{"value": None}]}}, _text("a", "", "b"), _text(""),
    _text("x" * 50_001), {"fileUploadAnswers": {}},
)  # fmt: skip


def test_normalise_responses_equals_the_frozen_one() -> None:
    phones = ("020 7946 0123", "", "  ", "020 7946 01", "+44 20 7946 0123", "07700 900123", "phone")
    emails = ("a@example.com", "", "A@EXAMPLE.com", "bad@", "ünï@exämple.com", "x@y")
    raw = []
    for i in range(60):
        answers: dict[str, Any] = {
            "full_name": _text(f" Name  {i} "), "date_of_birth": _text(("2010-01-02", "02/01/2010", "soon", "")[i % 4]),
            "leaving_year": _text(("2026", "in 2025", "2025 or 2026", "")[i % 4]),
            "telephone": _text(phones[i % len(phones)]), "personal_email": _text(emails[i % len(emails)]),
            "destination": _text(("College", "Other thing", "", "Not decided yet")[i % 4]),
            "consent": _text(("Yes, I agree", "no", "maybe", "")[i % 4]),
        }  # fmt: skip
        key = ("course", "provider", "level", "duration", "full_name", "telephone")[i % 6]
        answers[key] = ODD_ANSWERS[i % len(ODD_ANSWERS)]
        raw.append(_raw(i, STAMPS[i % len(STAMPS)], **answers))
    for options in (merge_responses.DESTINATION_OPTIONS, ("College", "Not decided yet")):
        new = merge_responses.normalise_responses(raw, DEFAULT_QUESTION_MAP, destination_options=options)  # fmt: skip
        old = ref_responses.normalise_responses(raw, DEFAULT_QUESTION_MAP, destination_options=options)  # fmt: skip
        assert_frame_equal(new, old)
    # A memo shared by calls (as a run shares one between schools) changes nothing.
    memo = merge_responses.Memo()
    for part in (raw[:30], raw[30:], raw):
        rows = merge_responses.normalise_rows(part, DEFAULT_QUESTION_MAP, memo=memo)
        assert rows == ref_responses.normalise_responses(part, DEFAULT_QUESTION_MAP).to_dict("records")  # fmt: skip
    for r in raw[:9]:
        assert merge_responses.normalise_response(r, DEFAULT_QUESTION_MAP) == ref_responses.normalise_response(r, DEFAULT_QUESTION_MAP)  # fmt: skip


# --- survey rounds ---------------------------------------------------------------------------

ROUND_KEYS = ["full_name", "date_of_birth", "leaving_year", "destination", "provider", "course",
              "level", "share_with_la", "telephone"]  # fmt: skip
ROUND_KEYS += [f"app{n}_{f}" for n in (1, 2) for f in ("provider", "course", "level", "status")]
ROUND_QMAP = {k: f"q_{k}" for k in ROUND_KEYS}
ROUND_DAYS = {"y11_december": "12-10", "y11_april": "04-20", "y11_results": "08-25",
              "y13_autumn": "10-01", "y13_spring": "02-01", "y13_summer": "08-20"}  # fmt: skip
PLANS = ("College", "Sixth form", "Apprenticeship", "Not decided yet", "Gap year", "")
STATUS = ("Applied", "offer", "Accepted", "rejected", "maybe", "")


def _round_raw(trust: Any, rng: random.Random, night: int) -> list[rounds.RoundsInput]:
    inputs = []
    for sample in trust.samples:
        per_round: dict[str, list[dict[str, Any]]] = {}
        for rnd in RULES.rounds:
            if rnd.phase != sample.phase:
                continue
            raws = []
            for k, p in enumerate(rng.sample(list(sample.pupils), min(12, len(sample.pupils)))):
                year = p.leaving_year - (1 if rnd.key in ("y11_december", "y13_autumn") else 0)
                month_day = ROUND_DAYS[rnd.key]
                when = f"{year}-{month_day}T{10 + night:02d}:{k:02d}:00.{k}Z"
                answers = {
                    "full_name": rng.choice((f"{p.legal_forename} {p.legal_surname}", "Someone Else")),
                    "date_of_birth": p.date_of_birth, "leaving_year": str(p.leaving_year),
                    "destination": rng.choice(PLANS), "provider": rng.choice(("Town", "")),
                    "course": "A levels", "level": "Level 3", "telephone": rng.choice(("020 7946 0123", "bad")),
                    "share_with_la": rng.choice(("Yes, you may share it", "No", "")),
                }  # fmt: skip
                for n in (1, 2):
                    if rng.random() < 0.6:
                        answers[f"app{n}_provider"] = rng.choice(("City", "Town", ""))
                        answers[f"app{n}_course"] = rng.choice(("BTEC", ""))
                        answers[f"app{n}_status"] = rng.choice(STATUS)
                raws.append({
                    "responseId": f"{sample.school}-{rnd.key if k % 3 else ''}-{p.upn}", "createTime": when,
                    "lastSubmittedTime": when,
                    "respondentEmail": p.school_email if rng.random() < 0.5 else "",
                    "answers": {ROUND_QMAP[k]: _text(v) for k, v in answers.items() if v},
                })  # fmt: skip
            per_round[rnd.key] = raws
        per_round["not_a_round"] = []
        inputs.append(
            rounds.RoundsInput(sample.school, per_round, {k: ROUND_QMAP for k in per_round})
        )
    return inputs


def _round_staff_edits(tabs: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)
    out = {k: v.copy() for k, v in tabs.items()}
    for key, col in (("intentions", "destination"), ("applications", "provider")):
        frame = out[key]
        for i in rng.sample(list(frame.index), min(len(frame), 4)):
            frame.loc[i, col] = "Corrected by staff"
    exc = out["exceptions"]
    for i in exc.index[::5]:
        exc.loc[i, "school"] = "Typo school"
    # Rows staff copied (the same pupil, round and number twice) or typed with spaces.
    for key, col in (("intentions", "destination"), ("applications", "provider")):
        frame = out[key]
        if len(frame):
            copies = frame.loc[rng.sample(list(frame.index), min(len(frame), 3))].copy()
            copies[col] = "Copied row"
            frame = pd.concat([frame, copies], ignore_index=True)
            frame.loc[frame.index[0], "upn"] = f" {frame.loc[frame.index[0], 'upn']} "
            out[key] = frame
    return out


def _old_rounds(tabs: dict[str, pd.DataFrame], inputs: list[rounds.RoundsInput]) -> Any:
    """The frozen `merge_rounds` school after school; (tabs, [(school, counts)], changes)."""
    counts: list[tuple[str, dict[str, int]]] = []
    changes: list[str] = []
    for sch in inputs:
        plan = ref_rounds.merge_rounds(tabs, sch.responses, school=sch.school, rules=RULES,
                                       question_maps=sch.question_maps, now=NOW, template=TEMPLATE)  # fmt: skip
        tabs = dict(plan.tabs)
        counts.append((sch.school, plan.counts))
        changes.extend(plan.changes)
    return tabs, counts, changes


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_rounds_many_equals_the_frozen_per_school_merge(seed: int) -> None:
    trust = _make_trust(seed)
    rng = random.Random(seed)
    tabs = dict(trust.tabs)
    for night in range(3):
        inputs = _round_raw(trust, rng, night)
        if night == 2:  # a school twice in one run
            inputs = [*inputs, inputs[0]]
        new = rounds.merge_rounds_many(tabs, inputs, rules=RULES, now=NOW, template=TEMPLATE)
        old_tabs, each, old_changes = _old_rounds(tabs, inputs)
        old_counts = dict(each)  # a school listed twice: its last counts, as by_school keeps
        _assert_same(new.tabs, old_tabs)
        assert new.by_school == old_counts and new.changes == old_changes
        assert new.counts == {k: sum(c[k] for _, c in each) for k in new.counts}
        one = inputs[1]
        single = rounds.merge_rounds(tabs, one.responses, school=one.school, rules=RULES,
                                     question_maps=one.question_maps, now=NOW, template=TEMPLATE)  # fmt: skip
        old_single = ref_rounds.merge_rounds(tabs, one.responses, school=one.school, rules=RULES,
                                             question_maps=one.question_maps, now=NOW, template=TEMPLATE)  # fmt: skip
        _assert_same(single.tabs, old_single.tabs)
        assert (single.counts, single.changes) == (old_single.counts, old_single.changes)
        tabs = _round_staff_edits(new.tabs, seed + night)
    for key in ("applied", "applications", "conflicts", "exceptions", "results_changes"):
        assert new.counts[key] > 0 or key == "results_changes", key
    assert len(tabs["intentions"]) > 0


def _assert_same(new: dict[str, pd.DataFrame], old: dict[str, pd.DataFrame]) -> None:
    assert sorted(new) == sorted(old)
    for key in old:
        assert_frame_equal(new[key], old[key], obj=key)
