"""The pure merge: logging, latest-wins, edits, consent, ownership, conflicts, exceptions, idempotence."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync.merge import SyncPlan, default_entry_for, plan_sync
from gsync.roster import apply_roster, read_roster
from gsync.sample import DEFAULT_QUESTION_MAP, FORMULA_PAYLOADS, Sample, make_sample
from gsync.template import Template, load_template

TEMPLATE = load_template()
NOW = dt.datetime(2026, 8, 1, 2, 0, tzinfo=dt.UTC)
TABS = ("destinations", "responses", "contacts", "exceptions")


def empty_tabs(template: Template = TEMPLATE) -> dict[str, pd.DataFrame]:
    return {k: pd.DataFrame(columns=template.tab(k).keys, dtype=object) for k in TABS}


def tabs_for(
    sample: Sample, tabs: dict[str, pd.DataFrame] | None = None
) -> dict[str, pd.DataFrame]:
    tabs = dict(tabs or empty_tabs())
    roster = read_roster(sample.roster_csv(), school=sample.school, phase=sample.phase)
    assert roster.errors == []
    tabs["destinations"], _ = apply_roster(tabs["destinations"], roster.frame)
    return tabs


def sync(tabs: dict[str, pd.DataFrame], raw: list[dict[str, Any]], school: str = "Northfield",
         now: dt.datetime = NOW) -> SyncPlan:  # fmt: skip
    return plan_sync(
        tabs, raw, school=school, question_map=DEFAULT_QUESTION_MAP, now=now, template=TEMPLATE
    )


def grid(frame: pd.DataFrame) -> list[list[str]]:
    return [[str(c) for c in frame.columns], *frame.fillna("").astype(str).to_numpy().tolist()]


def same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    return all(grid(a[k]) == grid(b[k]) for k in TABS)


def row_of(frame: pd.DataFrame, upn: str) -> dict[str, str]:
    rows = frame[frame["upn"] == upn]
    assert len(rows) == 1
    return {str(k): str(v) for k, v in rows.iloc[0].to_dict().items()}


@pytest.fixture(scope="module")
def sample() -> Sample:
    return make_sample(seed=7)


@pytest.fixture(scope="module")
def first(sample: Sample) -> SyncPlan:
    return sync(tabs_for(sample), sample.form_responses())


# --- entry windows -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "entry"),
    [
        (dt.date(2026, 3, 1), "current_intended"),
        (dt.date(2026, 8, 31), "current_intended"),
        (dt.date(2026, 9, 1), "intended"),
        (dt.date(2026, 9, 30), "intended"),
        (dt.date(2026, 10, 1), "actual_unvalidated"),
        (dt.date(2027, 5, 1), "actual_unvalidated"),
    ],
)
def test_default_entry_for(day: dt.date, entry: str) -> None:
    moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    assert default_entry_for(moment, 2026) == entry


# --- the sample, end to end --------------------------------------------------------------------


def test_every_response_logged_once(sample: Sample, first: SyncPlan) -> None:
    log = first.tabs["responses"]
    ids = {r.response_id for r in sample.responses}
    assert set(log["response_id"]) == ids
    assert len(log) == len(ids) == 250
    assert first.counts["new"] == 250
    assert set(log["school"]) == {"Northfield"}
    assert first.counts["unmatched"] == sum(r.kind == "unmatched" for r in sample.responses)
    assert first.counts["ambiguous"] >= 1


def test_second_run_changes_nothing(sample: Sample, first: SyncPlan) -> None:
    again = sync(first.tabs, sample.form_responses(), now=NOW + dt.timedelta(days=1))
    assert same(again.tabs, first.tabs)
    assert again.changes == []
    assert again.counts["new"] == again.counts["updated"] == again.counts["exceptions"] == 0
    assert again.counts["unchanged"] == 250


def test_no_destination_row_duplicated(sample: Sample, first: SyncPlan) -> None:
    dest = first.tabs["destinations"]
    assert len(dest) == len(sample.pupils)
    assert not dest.duplicated(["upn", "leaving_year"]).any()


def test_formula_payloads_stored_as_text(sample: Sample, first: SyncPlan) -> None:
    formula = [r for r in sample.responses if r.kind == "formula" and r.respondent_email]
    dest = first.tabs["destinations"]
    log = first.tabs["responses"].set_index("response_id")
    for r in formula:
        payload = next(v for v in r.answers.values() if v in FORMULA_PAYLOADS)
        assert payload in set(log.loc[r.response_id].astype(str))
    cells = set(dest.astype(str).to_numpy().ravel())
    assert set(FORMULA_PAYLOADS) <= cells  # the dedicated formula responses win their entries
    other = dest[dest["current_intended_other"] == FORMULA_PAYLOADS[0]]
    assert set(other["current_intended_destination"]) == {"Other"}


def test_no_consent_keeps_destination_but_no_contact_details(
    sample: Sample, first: SyncPlan
) -> None:
    dest = first.tabs["destinations"]
    refused = dest[dest["consent"] == "N"]
    assert len(refused) > 0
    assert set(refused["do_not_contact"]) == {"Y"}
    assert set(refused["personal_email"]) == {""} and set(refused["telephone"]) == {""}
    assert (refused["current_intended_destination"] != "").all()
    log = first.tabs["responses"]
    no = log[log["consent"] != "Y"]
    assert set(no["personal_email"]) == {""} and set(no["telephone"]) == {""}
    agreed = dest[dest["consent"] == "Y"]
    assert (agreed["telephone"].str.startswith("+44") | (agreed["telephone"] == "")).all()
    assert (agreed["telephone"] != "").sum() > len(agreed) // 2


def test_latest_submission_wins(sample: Sample, first: SyncPlan) -> None:
    by_pupil: dict[str, list[Any]] = {}
    for r in sample.responses:
        if r.respondent_email and r.kind == "duplicate":
            by_pupil.setdefault(r.respondent_email, [])
    for r in sample.responses:
        if r.respondent_email in by_pupil:
            by_pupil[r.respondent_email].append(r)
    checked = 0
    dest = first.tabs["destinations"]
    for email, subs in by_pupil.items():
        latest = max(subs, key=lambda r: (r.last_submitted, r.response_id))
        row = dest[dest["school_email"] == email].iloc[0]
        if len(subs) > 1 and latest.answers["destination"] not in FORMULA_PAYLOADS:
            assert row["current_intended_course"] == latest.answers["course"]
            assert row["current_intended_recorded"] == latest.last_submitted[:10]
            checked += 1
    assert checked >= 3


def test_edited_response_reapplied(sample: Sample, first: SyncPlan) -> None:
    assert sample.edits
    second = sync(first.tabs, sample.form_responses(edited=True), now=NOW + dt.timedelta(days=1))
    assert second.counts["updated"] == len(sample.edits)
    assert second.counts["new"] == 0
    log = second.tabs["responses"].set_index("response_id")
    assert len(log) == 250
    for edit in sample.edits:
        assert log.loc[edit.response_id, "course"] == edit.answers["course"]
        assert log.loc[edit.response_id, "last_submitted"] == edit.last_submitted
    dest = second.tabs["destinations"]
    changed = dest["current_intended_course"].str.endswith("(changed)").sum()
    assert changed >= 1  # edits that are the pupil's latest submission are applied
    third = sync(second.tabs, sample.form_responses(edited=True), now=NOW + dt.timedelta(days=2))
    assert same(third.tabs, second.tabs)


def test_exceptions_for_unmatched_ambiguous_invalid(first: SyncPlan) -> None:
    exc = first.tabs["exceptions"]
    kinds = set(exc["kind"])
    assert {"unmatched", "ambiguous", "invalid"} <= kinds
    assert not exc["exception_id"].duplicated().any()
    assert set(exc["status"]) == {"open"}
    assert set(exc["first_seen"]) == {"2026-08-01T02:00:00Z"}
    bad = exc[exc["kind"] == "invalid"]
    assert bad["reason"].str.contains("bad_telephone|bad_personal_email").all()
    log_ids = set(first.tabs["responses"]["response_id"])
    assert set(exc["response_id"]) <= log_ids


# --- staff edits and ownership -----------------------------------------------------------------


def _later_response(sample: Sample, upn: str, course: str, days: int) -> dict[str, Any]:
    pupil = next(p for p in sample.pupils if p.upn == upn)
    moment = dt.datetime(2026, 7, 20, 9, tzinfo=dt.UTC) + dt.timedelta(days=days)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    answers = {"full_name": f"{pupil.legal_forename} {pupil.legal_surname}",
               "date_of_birth": pupil.date_of_birth, "leaving_year": "2026",
               "destination": "Apprenticeship", "course": course, "consent": "Yes, I agree",
               "telephone": "0113 496 0999"}  # fmt: skip
    return {
        "responseId": f"late-{upn}-{days}",
        "createTime": stamp,
        "lastSubmittedTime": stamp,
        "respondentEmail": pupil.school_email,
        "answers": {
            DEFAULT_QUESTION_MAP[k]: {"textAnswers": {"answers": [{"value": v}]}}
            for k, v in answers.items()
        },
    }


def test_staff_edits_survive_and_conflicts_are_raised(sample: Sample, first: SyncPlan) -> None:
    tabs = {k: v.copy() for k, v in first.tabs.items()}
    dest = tabs["destinations"]
    target = str(dest.loc[dest["current_intended_destination"] != "", "upn"].iloc[0])
    i = dest.index[dest["upn"] == target][0]
    dest.loc[i, "current_intended_course"] = "Corrected by staff"
    dest.loc[i, "notes"] = "rang home"
    dest.loc[i, "actual_validated_destination"] = "College"
    dest.loc[i, "current_intended_validated"] = "Y"
    exc = tabs["exceptions"]
    exc.loc[0, "status"] = "resolved"
    exc.loc[0, "note"] = "checked with tutor"
    raw = sample.form_responses()

    # Same input again: the staff correction stands quietly (no new submission).
    quiet = sync(tabs, raw)
    assert row_of(quiet.tabs["destinations"], target)["current_intended_course"] == (
        "Corrected by staff"
    )
    assert quiet.counts["conflicts"] == 0

    # A newer submission for that pupil: not written over the staff edit, a conflict instead.
    late = sync(tabs, [*raw, _later_response(sample, target, "Plumbing", 3)])
    row = row_of(late.tabs["destinations"], target)
    assert row["current_intended_course"] == "Corrected by staff"
    assert row["notes"] == "rang home"
    assert row["actual_validated_destination"] == "College"
    assert row["current_intended_validated"] == "Y"
    assert late.counts["conflicts"] == 1
    conflicts = late.tabs["exceptions"][late.tabs["exceptions"]["kind"] == "conflict"]
    assert len(conflicts) == 1 and conflicts.iloc[0]["upn"] == target
    assert conflicts.iloc[0]["entry"] == "current_intended"
    assert late.tabs["exceptions"].loc[0, "status"] == "resolved"
    assert late.tabs["exceptions"].loc[0, "note"] == "checked with tutor"
    # The contact group was not edited, so the new phone is stored.
    assert row["telephone"] == "+441134960999"
    again = sync(late.tabs, [*raw, _later_response(sample, target, "Plumbing", 3)])
    assert same(again.tabs, late.tabs)

    # Staff clear the entry: the sync may fill it again from the latest submission.
    cleared = {k: v.copy() for k, v in late.tabs.items()}
    for col in cleared["destinations"].columns:
        if col.startswith("current_intended_") and col != "current_intended_validated":
            cleared["destinations"].loc[i, col] = ""
    refill = sync(cleared, [*raw, _later_response(sample, target, "Plumbing", 3)])
    assert row_of(refill.tabs["destinations"], target)["current_intended_course"] == "Plumbing"


def test_extra_columns_and_row_order_kept(sample: Sample) -> None:
    tabs = tabs_for(sample)
    dest = tabs["destinations"].iloc[::-1].reset_index(drop=True)
    dest.insert(3, "Form tutor", [f"T{i}" for i in range(len(dest))])
    tabs["destinations"] = dest
    out = sync(tabs, sample.form_responses()).tabs["destinations"]
    assert list(out.columns) == list(dest.columns)
    assert list(out["upn"]) == list(dest["upn"])
    assert list(out["Form tutor"]) == list(dest["Form tutor"])


def test_chaining_schools_over_the_same_frames() -> None:
    north = make_sample(seed=1, pupils=30, responses=40)
    south = make_sample(seed=2, pupils=30, responses=40, school="Southgate",
                        email_domain="pupils.southgate.sch.uk")  # fmt: skip
    tabs = tabs_for(south, tabs_for(north))
    a = sync(tabs, north.form_responses(), "Northfield")
    b = sync(a.tabs, south.form_responses(), "Southgate")
    log = b.tabs["responses"]
    assert len(log) == 80
    assert (log["school"] == "Southgate").sum() == 40
    north_rows = b.tabs["destinations"]["school"] == "Northfield"
    assert grid(b.tabs["destinations"][north_rows]) == grid(
        a.tabs["destinations"][a.tabs["destinations"]["school"] == "Northfield"]
    )
    a2 = sync(b.tabs, north.form_responses(), "Northfield")
    b2 = sync(a2.tabs, south.form_responses(), "Southgate")
    assert same(b2.tabs, b.tabs)


def test_roster_arriving_later_resolves_unmatched(sample: Sample) -> None:
    tabs = empty_tabs()
    before = sync(tabs, sample.form_responses())
    assert before.counts["unmatched"] == 250
    with_roster = tabs_for(sample, before.tabs)
    after = sync(with_roster, sample.form_responses())
    assert after.counts["unmatched"] < 20
    exc = after.tabs["exceptions"]
    stale = exc[(exc["kind"] == "unmatched") & exc["reason"].str.startswith("no longer applies")]
    assert len(stale) > 200
    assert (after.tabs["destinations"]["current_intended_destination"] != "").sum() > 150


# --- property tests ----------------------------------------------------------------------------

PUPILS = make_sample(seed=11, pupils=4, responses=0)
STAFF_DEST = [c.key for c in TEMPLATE.tab("destinations").columns if c.owner == "staff"]
SYNC_ENTRY = ["current_intended_course", "intended_provider", "consent", "telephone"]


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    n = draw(st.integers(min_value=0, max_value=12))
    raw = []
    for _ in range(n):
        who = draw(st.integers(min_value=-1, max_value=len(PUPILS.pupils) - 1))
        rid = f"r{draw(st.integers(min_value=0, max_value=6))}"
        moment = dt.datetime(2026, 6, 1, tzinfo=dt.UTC) + dt.timedelta(
            hours=draw(st.integers(min_value=0, max_value=24 * 150))
        )
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        p = PUPILS.pupils[who] if who >= 0 else None
        answers = {
            "full_name": f"{p.legal_forename} {p.legal_surname}" if p else "No One",
            "date_of_birth": p.date_of_birth if p else "2010-01-01",
            "leaving_year": "2026",
            "destination": draw(st.sampled_from(["College", "Apprenticeship", "=1+1", "Gap"])),
            "course": draw(st.text(max_size=8)),
            "telephone": draw(st.sampled_from(["020 7946 0001", "bad", ""])),
            "consent": draw(st.sampled_from(["Yes, I agree", "No, I do not agree", ""])),
        }
        raw.append({
            "responseId": rid, "createTime": stamp, "lastSubmittedTime": stamp,
            "respondentEmail": p.school_email if p and draw(st.booleans()) else "",
            "answers": {DEFAULT_QUESTION_MAP[k]: {"textAnswers": {"answers": [{"value": v}]}}
                        for k, v in answers.items() if v},
        })  # fmt: skip
    edits = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=len(PUPILS.pupils) - 1),
                st.sampled_from(STAFF_DEST + SYNC_ENTRY),
                st.text(min_size=1, max_size=6),
            ),
            max_size=5,
        )
    )
    return raw, edits


BASE_TABS = tabs_for(PUPILS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario(), scenario())
def test_merge_properties(
    one: tuple[list[dict[str, Any]], list[tuple[int, str, str]]],
    two: tuple[list[dict[str, Any]], list[tuple[int, str, str]]],
) -> None:
    raw1, _ = one
    raw2, edits = two
    p1 = sync(BASE_TABS, raw1)
    # Idempotent: the same input again changes nothing.
    assert same(sync(p1.tabs, raw1).tabs, p1.tabs)
    # Staff edit cells between runs, then more responses arrive (some ids reused: edits).
    tabs = {k: v.copy() for k, v in p1.tabs.items()}
    for row, col, value in edits:
        tabs["destinations"].loc[row, col] = value
    exc = tabs["exceptions"]
    if len(exc):
        exc.loc[0, "status"] = "ignored"
        exc.loc[0, "note"] = "staff"
    p2 = sync(tabs, raw1 + raw2)
    dest = p2.tabs["destinations"]
    # No response lost: every id ever seen is in the log, once.
    log_ids = list(p2.tabs["responses"]["response_id"])
    assert set(log_ids) == {r["responseId"] for r in raw1 + raw2}
    assert len(log_ids) == len(set(log_ids))
    # No row duplicated or removed; order kept.
    assert list(dest["upn"]) == list(tabs["destinations"]["upn"])
    assert not p2.tabs["exceptions"]["exception_id"].duplicated().any()
    # Staff cells unchanged; staff edits of sync cells survive.
    for col in STAFF_DEST:
        assert list(dest[col]) == list(tabs["destinations"][col])
    for row, col, _value in edits:
        assert dest.loc[row, col] == tabs["destinations"].loc[row, col]
    n_old = len(exc)
    for col in ("status", "note"):
        assert list(p2.tabs["exceptions"][col][:n_old]) == list(exc[col])
    assert same(sync(p2.tabs, raw1 + raw2).tabs, p2.tabs)


# --- years 1-3 checks: the Sustained tab ---------------------------------------------------------


def _y1_after(cut: dt.datetime) -> Any:
    """A resolver: before `cut` the default entries; from then on the year-1 summer check."""

    def entry_for(submitted: dt.datetime, leaving_year: int) -> str | None:
        return "y1_summer" if submitted >= cut else default_entry_for(submitted, leaving_year)

    return entry_for


def test_sustained_check_response_goes_to_a_sustained_row(sample: Sample, first: SyncPlan) -> None:
    from gsync.contacts import apply_three_attempts_sustained
    from gsync.deadlines import load_rules, with_sustained

    tabs = {k: v.copy() for k, v in first.tabs.items()}
    dest = tabs["destinations"]
    target = str(dest.loc[dest["current_intended_destination"] != "", "upn"].iloc[0])
    before = row_of(dest, target)
    raw = [*sample.form_responses(), _later_response(sample, target, "Plumbing", 60)]
    cut = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)  # after every sample response

    # Without a Sustained frame the response stays a no_entry exception (never silently lost).
    plain = plan_sync(tabs, raw, school="Northfield", question_map=DEFAULT_QUESTION_MAP,
                      now=NOW, template=TEMPLATE, entry_for=_y1_after(cut))  # fmt: skip
    no_entry = plain.tabs["exceptions"][plain.tabs["exceptions"]["kind"] == "no_entry"]
    assert target in set(no_entry["upn"]) and "sustained" not in plain.tabs

    tabs["sustained"] = pd.DataFrame(columns=TEMPLATE.tab("sustained").keys, dtype=object)
    with_tab = plan_sync(tabs, raw, school="Northfield", question_map=DEFAULT_QUESTION_MAP,
                         now=NOW, template=TEMPLATE, entry_for=_y1_after(cut))  # fmt: skip
    sus = with_tab.tabs["sustained"]
    assert len(sus) == 1
    row = sus.iloc[0]
    assert (row["upn"], row["leaving_year"], row["check"]) == (target, "2026", "y1_summer")
    assert (row["destination"], row["course"], row["source"]) == (
        "Apprenticeship",
        "Plumbing",
        "form",
    )
    assert row["recorded"] == "2026-09-18" and row["sync_hash"].startswith("sc=")
    # Destinations' four entries are untouched, and no exception names the pupil's check.
    assert (
        row_of(with_tab.tabs["destinations"], target)["current_intended_course"]
        == before["current_intended_course"]
    )
    exc = with_tab.tabs["exceptions"]
    assert not ((exc["kind"] == "no_entry") & (exc["upn"] == target)).any()
    # Idempotent: the same input again changes nothing.
    again = plan_sync(with_tab.tabs, raw, school="Northfield", question_map=DEFAULT_QUESTION_MAP,
                      now=NOW, template=TEMPLATE, entry_for=_y1_after(cut))  # fmt: skip
    assert grid(again.tabs["sustained"]) == grid(sus)

    # Staff correct the row; a newer submission then raises a conflict instead of overwriting.
    edited = {k: v.copy() for k, v in with_tab.tabs.items()}
    edited["sustained"].loc[0, "provider"] = "Checked by phone"
    newer = [*raw, _later_response(sample, target, "Carpentry", 62)]
    clash = plan_sync(edited, newer, school="Northfield", question_map=DEFAULT_QUESTION_MAP,
                      now=NOW, template=TEMPLATE, entry_for=_y1_after(cut))  # fmt: skip
    assert clash.tabs["sustained"].loc[0, "provider"] == "Checked by phone"
    assert clash.counts["conflicts"] == 1

    # Status reads the check from the Sustained row.
    rules = load_rules()
    wide = with_sustained(with_tab.tabs["destinations"], sus, rules)
    assert row_of(wide, target)["y1_summer_destination"] == "Apprenticeship"
    assert row_of(wide, target)["y2_autumn_destination"] == ""

    # Three unsuccessful attempts for another pupil's check append a placeholder row, which a
    # later response then replaces.
    other = str(dest.loc[dest["upn"] != target, "upn"].iloc[0])
    contacts = pd.DataFrame(
        [{"school": "Northfield", "upn": other, "leaving_year": "2026", "entry": "y1_summer",
          "date": day, "channel": ch, "outcome": "no reply"}
         for day, ch in (("2027-05-03", "email"), ("2027-05-04", "phone"), ("2027-05-05", "letter"))]
    )  # fmt: skip
    marked = apply_three_attempts_sustained(
        sus, with_tab.tabs["destinations"], contacts, rules, {}, dt.date(2027, 5, 6)
    )
    placeholder = marked[marked["upn"] == other].iloc[0]
    assert (placeholder["destination"], placeholder["source"]) == (
        "Unknown",
        "unknown (3 attempts)",
    )
    assert len(marked) == 2
    tabs2 = {**with_tab.tabs, "sustained": marked}
    replaced = plan_sync(tabs2, [*raw, _later_response(sample, other, "Baking", 61)],
                         school="Northfield", question_map=DEFAULT_QUESTION_MAP, now=NOW,
                         template=TEMPLATE, entry_for=_y1_after(cut))  # fmt: skip
    fixed = replaced.tabs["sustained"]
    assert row_of(fixed, other)["destination"] == "Apprenticeship"
    assert row_of(fixed, other)["source"] == "form" and replaced.counts["conflicts"] == 0
