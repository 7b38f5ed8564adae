"""Issue 7's fast core gives the old output: the run-level merge against `plan_sync` school by
school, and the vectorised deadlines / contacts rules against their per-pupil originals.

The old code is frozen in tests/unit/_reference_core.py. Each seeded trust has 3-5 schools of
both phases and two cohorts, a Sustained tab (some rows typed loosely by staff), a Contacts log
with attempts in and out of windows, and a second night with edited responses and staff edits.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from gsync import contacts, deadlines, merge, risk
from gsync.config import TermDates
from gsync.roster import apply_roster, read_roster
from gsync.sample import DEFAULT_QUESTION_MAP, Sample, make_sample
from gsync.template import load_template
from tests.unit import _reference_core as ref

TEMPLATE = load_template()
RULES = deadlines.load_rules()
NOW = dt.datetime(2026, 8, 1, 2, 0, tzinfo=dt.UTC)
SEEDS = (3, 11, 29, 47)
AS_OF = (
    dt.date(2026, 3, 10),
    dt.date(2026, 7, 20),
    dt.date(2026, 10, 20),
    dt.date(2027, 6, 30),
    dt.date(2028, 1, 15),
)
# One academic year's term dates configured; the others fall back to the default estimate (with
# warnings, which must match too).
TERMS: dict[str, TermDates] = {
    "2026-27": TermDates(
        autumn_start=dt.date(2026, 9, 3),
        autumn_end=dt.date(2026, 12, 18),
        spring_start=dt.date(2027, 1, 5),
        spring_end=dt.date(2027, 3, 26),
        summer_start=dt.date(2027, 4, 12),
        summer_end=dt.date(2027, 7, 21),
    )
}
OUTCOMES = ("No reply", "no answer", "Bounced", "reached", "Refused", "Left message", "")
CHANNELS = ("Email", "Phone", "email", "Letter", "")


@dataclass
class Trust:
    samples: list[Sample]
    tabs: dict[str, pd.DataFrame]


def _entry_for(submitted: dt.datetime, leaving_year: int) -> str | None:
    """Deterministic but mixed: the default entries, years 1-3 checks (Sustained) and none."""
    pick = submitted.minute % 9
    if pick == 0:
        return "y1_summer"
    if pick == 1:
        return "y2_autumn"
    if pick == 2:
        return None
    return merge.default_entry_for(submitted, leaving_year)


def _make_trust(seed: int, *, sustained: bool = True) -> Trust:
    rng = random.Random(seed)
    tabs: dict[str, pd.DataFrame] = {
        k: pd.DataFrame(columns=TEMPLATE.tab(k).keys, dtype=object)
        for k in ("destinations", "responses", "contacts", "exceptions")
    }
    samples: list[Sample] = []
    for i in range(3 + seed % 3):
        phase = "Y11" if i % 2 == 0 else "Y13"
        sample = make_sample(
            seed=seed * 100 + i,
            pupils=rng.randint(25, 45),
            responses=rng.randint(30, 60),
            school=f"School {seed}-{i}",
            phase=phase,
            leaving_year=2025 + i % 2,
            email_domain=f"pupils.s{seed}x{i}.sch.uk",
        )
        roster = read_roster(sample.roster_csv(), school=sample.school, phase=phase)
        assert roster.errors == []
        tabs["destinations"], _ = apply_roster(tabs["destinations"], roster.frame)
        samples.append(sample)
    dest = tabs["destinations"]
    # Rows that are no pupil: a blank UPN and an unreadable leaving year (kept, never matched).
    odd = [dict.fromkeys(dest.columns, ""), dict.fromkeys(dest.columns, "")]
    odd[0].update(school=samples[0].school, leaving_year="2025")
    odd[1].update(school=samples[0].school, upn="Z999999999999", leaving_year="20x5")
    dest = pd.concat([dest, pd.DataFrame(odd, dtype=object)], ignore_index=True)
    tabs["destinations"] = dest
    pupils = [(str(u), str(y), str(s)) for u, y, s in zip(dest["upn"], dest["leaving_year"], dest["school"], strict=True) if u]  # fmt: skip
    if sustained:
        rows = []
        for upn, year, school in rng.sample(pupils, 6):
            check = rng.choice(("y1_summer", "y2_autumn", "y3_summer"))
            # Staff type loosely: lower case and padding are read as the same pupil and check.
            typed = rng.choice((upn, upn.lower(), f" {upn} "))
            row = dict.fromkeys(TEMPLATE.tab("sustained").keys, "")
            row.update(school=school, upn=typed, leaving_year=year, check=check)
            if rng.random() < 0.5:
                row.update(destination="College", source="staff", recorded="2027-07-01")
            rows.append(row)
            if rng.random() < 0.5:  # the same check logged twice
                rows.append({**row, "destination": "", "recorded": "2027-08-01"})
        tabs["sustained"] = pd.DataFrame(rows, columns=TEMPLATE.tab("sustained").keys, dtype=object)
    entries = ["", "", *RULES.keys, "not_an_entry"]
    contact_rows = []
    for upn, year, school in rng.sample(pupils, min(len(pupils), 40)):
        for _ in range(rng.randint(1, 6)):
            day = dt.date(2025, 9, 1) + dt.timedelta(days=rng.randint(0, 3 * 365))
            date = rng.choice(
                (day.isoformat(), day.isoformat(), "soon", f"{day.isoformat()}T09:00")
            )
            row = dict.fromkeys(TEMPLATE.tab("contacts").keys, "")
            row.update(school=school, upn=rng.choice((upn, upn, upn.lower())), leaving_year=year,
                       entry=rng.choice(entries), date=date, channel=rng.choice(CHANNELS),
                       outcome=rng.choice(OUTCOMES))  # fmt: skip
            contact_rows.append(row)
            if rng.random() < 0.2:  # one attempt logged twice
                contact_rows.append(dict(row))
    # Three failed attempts inside an entry's window for a few pupils: the rule must fire.
    for upn, year, school in rng.sample(pupils, 4):
        for key in ("actual_unvalidated", "y1_summer", "current_intended"):
            window, _ = deadlines.window_of(RULES.rule(key), int(year), TERMS)
            assert window is not None
            for k in range(3):
                row = dict.fromkeys(TEMPLATE.tab("contacts").keys, "")
                row.update(school=school, upn=upn, leaving_year=year, entry=key if k else "",
                           date=(window[0] + dt.timedelta(days=k)).isoformat(),
                           channel=CHANNELS[k], outcome="No reply")  # fmt: skip
                contact_rows.append(row)
    stranger = dict.fromkeys(TEMPLATE.tab("contacts").keys, "")
    stranger.update(upn="A000000000000", leaving_year="2025", date="2026-01-10", outcome="No reply")
    contact_rows.append(stranger)
    tabs["contacts"] = pd.DataFrame(
        contact_rows, columns=TEMPLATE.tab("contacts").keys, dtype=object
    )
    return Trust(samples, tabs)


def _old_nightly(tabs: dict[str, pd.DataFrame], raws: list[list[dict[str, Any]]], trust: Trust,
                 now: dt.datetime = NOW) -> tuple[dict[str, pd.DataFrame], dict[str, dict[str, int]], list[str]]:  # fmt: skip
    """The old run: the frozen `plan_sync` school after school, each on the previous tabs."""
    counts: dict[str, dict[str, int]] = {}
    changes: list[str] = []
    for sample, raw in zip(trust.samples, raws, strict=True):
        plan = ref.plan_sync(tabs, raw, school=sample.school, question_map=DEFAULT_QUESTION_MAP,
                             entry_for=_entry_for, now=now, template=TEMPLATE)  # fmt: skip
        tabs = dict(plan.tabs)
        counts[sample.school] = plan.counts
        changes.extend(plan.changes)
    return tabs, counts, changes


def _assert_same_tabs(new: dict[str, pd.DataFrame], old: dict[str, pd.DataFrame]) -> None:
    assert sorted(new) == sorted(old)
    for key in old:
        assert_frame_equal(new[key], old[key], obj=key)


def _staff_edits(tabs: dict[str, pd.DataFrame], seed: int) -> dict[str, pd.DataFrame]:
    """Between nights staff correct synced cells (conflicts next run) and triage exceptions."""
    rng = random.Random(seed)
    out = {k: v.copy() for k, v in tabs.items()}
    dest = out["destinations"]
    for col in ("current_intended_course", "intended_provider", "telephone"):
        filled = dest.index[dest[col].astype(str) != ""].tolist()
        for i in rng.sample(filled, min(len(filled), 3)):
            dest.loc[i, col] = "Corrected by staff"
    if "sustained" in out and len(out["sustained"]):
        out["sustained"].loc[out["sustained"].index[-1], "provider"] = "Checked by phone"
    exc = out["exceptions"]
    if len(exc):
        exc.loc[exc.index[0], "status"] = "resolved"
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_run_level_merge_equals_per_school_merge(seed: int) -> None:
    trust = _make_trust(seed, sustained=seed != 11)
    inputs = [merge.SchoolInput(s.school, s.form_responses(), DEFAULT_QUESTION_MAP) for s in trust.samples]  # fmt: skip
    new = merge.plan_sync_many(trust.tabs, inputs, entry_for=_entry_for, now=NOW, template=TEMPLATE)
    old_tabs, old_counts, old_changes = _old_nightly(
        dict(trust.tabs), [i.raw_responses for i in inputs], trust
    )
    _assert_same_tabs(new.tabs, old_tabs)
    assert new.by_school == old_counts and new.changes == old_changes
    assert new.counts == {k: sum(c[k] for c in old_counts.values()) for k in new.counts}
    assert new.counts["new"] > 0 and new.counts["applied"] > 0  # the trust exercised the merge

    # The second night: edited responses, staff corrections, a re-read Responses log.
    edited = _staff_edits(new.tabs, seed)
    raws = [s.form_responses(edited=True) for s in trust.samples]
    again = merge.plan_sync_many(
        edited,
        [merge.SchoolInput(s.school, r, DEFAULT_QUESTION_MAP) for s, r in zip(trust.samples, raws, strict=True)],
        entry_for=_entry_for, now=NOW + dt.timedelta(days=1), template=TEMPLATE,
    )  # fmt: skip
    old2_tabs, old2_counts, old2_changes = _old_nightly(
        dict(edited), raws, trust, now=NOW + dt.timedelta(days=1)
    )
    _assert_same_tabs(again.tabs, old2_tabs)
    assert again.by_school == old2_counts and again.changes == old2_changes


def test_plan_sync_wrapper_equals_the_old_plan_sync() -> None:
    trust = _make_trust(5)
    sample = trust.samples[1]
    raw = sample.form_responses(edited=True)
    new = merge.plan_sync(trust.tabs, raw, school=sample.school, question_map=DEFAULT_QUESTION_MAP,
                          entry_for=_entry_for, now=NOW, template=TEMPLATE)  # fmt: skip
    old = ref.plan_sync(trust.tabs, raw, school=sample.school, question_map=DEFAULT_QUESTION_MAP,
                        entry_for=_entry_for, now=NOW, template=TEMPLATE)  # fmt: skip
    _assert_same_tabs(new.tabs, old.tabs)
    assert (new.counts, new.changes) == (old.counts, old.changes)
    assert new.by_school == {sample.school: old.counts}


# --- deadlines and contacts --------------------------------------------------------------------


@pytest.fixture(scope="module", params=SEEDS)
def merged(request: pytest.FixtureRequest) -> dict[str, pd.DataFrame]:
    """A trust after two nights (as the rules see it), plus loose cells: blanks as NaN/None."""
    seed = int(request.param)
    trust = _make_trust(seed)
    inputs = [merge.SchoolInput(s.school, s.form_responses(edited=True), DEFAULT_QUESTION_MAP) for s in trust.samples]  # fmt: skip
    tabs = merge.plan_sync_many(trust.tabs, inputs, entry_for=_entry_for, now=NOW, template=TEMPLATE).tabs  # fmt: skip
    tabs = {k: v.copy() for k, v in tabs.items()}
    if seed % 2:  # cells read from a hand-made frame rather than the sheet: not all text
        dest = tabs["destinations"]
        rng = random.Random(seed)
        for col in ("current_intended_recorded", "intended_destination", "phase", "do_not_contact"):
            for i in rng.sample(list(dest.index), 5):
                dest.loc[i, col] = rng.choice((None, float("nan")))
        dest.loc[dest.index[3], "current_intended_recorded"] = "2026-05-04T10:00:00Z"
        dest.loc[dest.index[4], "current_intended_recorded"] = " 2026-13-40 "
        for i in rng.sample(list(dest.index), 8):  # typed with stray spaces and in lower case
            dest.loc[i, "send"] = " k "
            dest.loc[i, "phase"] = f" {dest.loc[i, 'phase']} "
    return tabs


def _same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    assert_frame_equal(new, old)
    assert new.attrs == old.attrs


@pytest.mark.parametrize("as_of", AS_OF)
def test_entry_status_and_with_sustained_equal_the_old(merged: dict[str, pd.DataFrame], as_of: dt.date) -> None:  # fmt: skip
    wide_old = ref.with_sustained(merged["destinations"], merged["sustained"], RULES)
    wide = deadlines.with_sustained(merged["destinations"], merged["sustained"], RULES)
    _same(wide, wide_old)
    status = deadlines.entry_status(wide, RULES, TERMS, as_of)
    _same(status, ref.entry_status(wide_old, RULES, TERMS, as_of))
    assert status["complete"].sum() > 0 and len(status) > 0  # the trust has something to count
    school = str(wide["school"].iloc[0])
    _same(
        deadlines.entry_status(wide, RULES, TERMS, as_of, school=school, due_soon_days=40),
        ref.entry_status(wide_old, RULES, TERMS, as_of, school=school, due_soon_days=40),
    )
    for rule in RULES.entries[:4]:
        done, when = deadlines.completion_vector(wide, rule, as_of)
        old = [ref.pupil_completion(r, rule, as_of) for r in wide_old.to_dict("records")]
        assert done.tolist() == [d for d, _ in old]
        assert [w if w >= 0 else None for w in when.tolist()] == [
            d.toordinal() if d is not None else None for _, d in old
        ]


@pytest.mark.parametrize("as_of", AS_OF)
def test_contacts_rules_equal_the_old(merged: dict[str, pd.DataFrame], as_of: dt.date) -> None:
    dest, contacts_tab, sus = merged["destinations"], merged["contacts"], merged["sustained"]
    _same(
        contacts.attempts(contacts_tab, dest, RULES, TERMS, as_of=as_of),
        ref.attempts(contacts_tab, dest, RULES, TERMS, as_of=as_of),
    )
    _same(
        contacts.attempts(contacts_tab, dest, RULES, TERMS),
        ref.attempts(contacts_tab, dest, RULES, TERMS),
    )
    marked = contacts.apply_three_attempts(dest, contacts_tab, RULES, TERMS, as_of)
    _same(marked, ref.apply_three_attempts(dest, contacts_tab, RULES, TERMS, as_of))
    _same(
        contacts.apply_three_attempts_sustained(sus, marked, contacts_tab, RULES, TERMS, as_of),
        ref.apply_three_attempts_sustained(sus, marked, contacts_tab, RULES, TERMS, as_of),
    )
    wide = deadlines.with_sustained(marked, sus, RULES)
    due = contacts.contacts_due(wide, contacts_tab, RULES, TERMS, as_of)
    _same(due, ref.contacts_due(wide, contacts_tab, RULES, TERMS, as_of))
    school = str(wide["school"].iloc[-3])
    _same(
        contacts.contacts_due(
            wide,
            contacts_tab,
            RULES,
            TERMS,
            as_of,
            school,
            contact_columns=("telephone", "school_email", "nope"),
        ),
        ref.contacts_due(
            wide,
            contacts_tab,
            RULES,
            TERMS,
            as_of,
            school,
            contact_columns=("telephone", "school_email", "nope"),
        ),
    )


def test_the_trusts_exercise_the_three_attempts_rule(merged: dict[str, pd.DataFrame]) -> None:
    """Guards the equivalence above against a trust where no rule ever fires."""
    dest, contacts_tab, sus = merged["destinations"], merged["contacts"], merged["sustained"]
    fired = listed = 0
    for as_of in AS_OF:
        marked = contacts.apply_three_attempts(dest, contacts_tab, RULES, TERMS, as_of)
        checks = contacts.apply_three_attempts_sustained(sus, marked, contacts_tab, RULES, TERMS, as_of)  # fmt: skip
        fired += int((marked == deadlines.UNKNOWN_DESTINATION).to_numpy().sum())
        fired += int((checks["destination"] == deadlines.UNKNOWN_DESTINATION).sum())
        due = contacts.contacts_due(marked, contacts_tab, RULES, TERMS, as_of)
        listed += len(due)
    assert fired > 0 and listed > 0


@pytest.mark.parametrize("as_of", AS_OF)
def test_risk_assessment_equals_the_old(merged: dict[str, pd.DataFrame], as_of: dt.date) -> None:
    dest = deadlines.with_sustained(merged["destinations"], merged["sustained"], RULES)
    new = risk.assess(dest, None, None, RULES, TERMS, as_of)
    assert new == ref.risk_assess(dest, None, None, RULES, TERMS, as_of)
    school = str(dest["school"].iloc[-1])
    assert risk.assess(dest, None, None, RULES, TERMS, as_of, school=school) == ref.risk_assess(
        dest, None, None, RULES, TERMS, as_of, school=school
    )


def test_risk_assessment_flags_someone(merged: dict[str, pd.DataFrame]) -> None:
    """Guards the risk equivalence against trusts where no cohort is in its survey rounds."""
    flagged = sum(
        len(risk.assess(merged["destinations"], None, None, RULES, TERMS, d)) for d in AS_OF
    )
    assert flagged > 0
