"""Survey-round summaries (issue 11) on hand-built cohorts: every figure is worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync.deadlines import load_rules
from gsync.disclosure import ALL_GROUP, TOTAL, TRUST_SCHOOL, check_disclosure, load_policy
from gsync.export import tables_from_rows
from gsync.summary import (
    APPLIED_NO,
    APPLIED_YES,
    CHANGED_NO,
    CHANGED_YES,
    INTENDED_NO,
    INTENDED_YES,
    OFFER_NO,
    OFFER_YES,
    RESULTS_ENTRY,
    ROUND_TABLES,
    _Pupils,
    _round_tables,
    summary_tabs,
)
from gsync.taxonomy import load_taxonomy

TAX = load_taxonomy()
POLICY = load_policy()
RULES = load_rules()
ENTRY_COLS = ["current_intended", "intended", "actual_unvalidated", "actual_validated"]


@dataclass(frozen=True)
class Rnd:
    key: str
    phase: str


Y11 = (Rnd("dec", "Y11"), Rnd("apr", "Y11"), Rnd("res", "Y11"), Rnd("y13a", "Y13"))


def upn(n: int) -> str:
    return f"A{n:012d}"


def pupil(
    n: int,
    *,
    school: str = "Northfield",
    year: str = "2026",
    phase: str = "Y11",
    send: str = "N",
    dis: str = "N",
) -> dict[str, str]:
    row = {
        "school": school,
        "upn": upn(n),
        "legal_forename": f"Pupil{n}",
        "legal_surname": "Example",
        "date_of_birth": f"2010-01-{n % 28 + 1:02d}",
        "leaving_year": year,
        "phase": phase,
        "send": send,
        "disadvantaged": dis,
        "eal": "N",
        "looked_after": "N",
    }
    for e in ENTRY_COLS:
        row |= {f"{e}_destination": "", f"{e}_level": "", f"{e}_other": ""}
    return row


def intent(n: int, rnd: str, dest: str, changed: str = "", year: str = "2026") -> dict[str, str]:
    return {
        "school": "Northfield",
        "upn": upn(n),
        "leaving_year": year,
        "round": rnd,
        "destination": dest,
        "provider": "",
        "course": "",
        "results_change": changed,
    }


def app(n: int, rnd: str, number: int, provider: str, course: str, status: str) -> dict[str, str]:
    return {
        "school": "Northfield",
        "upn": upn(n),
        "leaving_year": "2026",
        "round": rnd,
        "number": str(number),
        "provider": provider,
        "course": course,
        "level": "Level 3" if provider else "",
        "status": status,
    }


# Northfield 2026 Y11: six pupils (P2 SEND, P5 disadvantaged); 2025 Y11 and 2026 Y13 pupils have
# no round rows, so no round figures.
DEST = pd.DataFrame(
    [
        pupil(1),
        pupil(2, send="K"),
        pupil(3),
        pupil(4),
        pupil(5, dis="Y"),
        pupil(6),
        pupil(7, year="2025"),
        pupil(8, year="2025"),
        pupil(9, phase="Y13"),
    ]
)
INTENTIONS = pd.DataFrame(
    [
        intent(1, "dec", "College"),
        intent(1, "apr", "College"),
        intent(2, "dec", "Not decided yet"),
        intent(2, "apr", "Sixth form"),
        intent(3, "dec", "Apprenticeship"),  # no April answer: December's plan still holds
        intent(4, "dec", "Not decided yet"),
        intent(4, "apr", "Not decided yet"),
        intent(5, "apr", "College"),
        intent(5, "res", "Sixth form", changed="2026-08-20"),
        intent(99, "dec", "College"),  # a pupil no longer in Destinations (erased): ignored
        # P6 never answered.
    ]
)
APPLICATIONS = pd.DataFrame(
    [
        app(1, "dec", 1, "Town College", "A levels", "applied"),
        app(1, "dec", 2, "City Sixth Form", "BTEC Sport", "interview"),
        app(1, "apr", 1, "Town College", "A levels", "offer"),
        app(1, "apr", 2, "City Sixth Form", "BTEC Sport", "rejected"),
        app(2, "apr", 1, "Acme Ltd", "Engineering", "applied"),
        app(3, "dec", 1, "Acme Ltd", "Engineering", "applied"),
        app(3, "apr", 1, "Acme Ltd", "Engineering", "rejected"),
        app(4, "dec", 1, "", "", ""),  # blanked: a newer submission dropped it
        app(5, "res", 1, "New College", "Level 3 Diploma", "accepted"),
    ]
)


def cell(table: pd.DataFrame, entry: str, category: str, group: str = ALL_GROUP) -> tuple:
    row = table[
        (table["entry"] == entry) & (table["group"] == group) & (table["category"] == category)
    ]
    assert len(row) == 1, (entry, category, group)
    return int(row["count"].iloc[0]), round(float(row["percent"].iloc[0]), 2)


def symbols(table: pd.DataFrame, entry: str, category: str, group: str = ALL_GROUP) -> bool:
    row = table[
        (table["entry"] == entry) & (table["group"] == group) & (table["category"] == category)
    ]
    assert len(row) == 1, (entry, category, group)
    return bool(row["count"].iloc[0] == POLICY.symbol and row["percent"].iloc[0] == POLICY.symbol)


def test_round_figures_by_hand() -> None:
    t = _round_tables(_Pupils(DEST), INTENTIONS, APPLICATIONS, Y11)
    assert set(t) == set(ROUND_TABLES)
    # Only the cohort with round rows; Y13's round has no Y13 rows.
    for table in t.values():
        assert set(table["cohort"]) == {"2026 Y11"}
        assert set(table["school"]) == {"Northfield"}
    assert list(dict.fromkeys(t["round_intended"]["entry"])) == ["dec", "apr", "res"]
    # December: P1 College, P3 Apprenticeship (P2, P4 undecided; P5, P6 no answer).
    assert cell(t["round_intended"], "dec", INTENDED_YES) == (2, 33.33)
    assert cell(t["round_intended"], "dec", INTENDED_NO) == (4, 66.67)
    assert cell(t["round_intended"], "dec", TOTAL) == (6, 100.0)
    # April: P1, P2 (now Sixth form), P3 (December's plan), P5.
    assert cell(t["round_intended"], "apr", INTENDED_YES) == (4, 66.67)
    assert cell(t["round_intended"], "res", INTENDED_YES) == (4, 66.67)
    # Applications: P1, P3 in December (P4's blanked row is none); P2 joins in April; P5 later.
    assert cell(t["round_applied"], "dec", APPLIED_YES) == (2, 33.33)
    assert cell(t["round_applied"], "apr", APPLIED_YES) == (3, 50.0)
    assert cell(t["round_applied"], "res", APPLIED_YES) == (4, 66.67)
    assert cell(t["round_applied"], "res", APPLIED_NO) == (2, 33.33)
    # Offers: none in December; April: P1's Town College offer (P3 was rejected); results: P1's
    # offer still stands and P5 accepted.
    assert cell(t["round_offer"], "dec", OFFER_YES) == (0, 0.0)
    assert cell(t["round_offer"], "apr", OFFER_YES) == (1, 16.67)
    assert cell(t["round_offer"], "res", OFFER_YES) == (2, 33.33)
    assert cell(t["round_offer"], "res", OFFER_NO) == (4, 66.67)
    # Plans changed with results: P5 only.
    assert cell(t["results_change"], RESULTS_ENTRY, CHANGED_YES) == (1, 16.67)
    assert cell(t["results_change"], RESULTS_ENTRY, CHANGED_NO) == (5, 83.33)


def test_round_figures_by_priority_group() -> None:
    t = _round_tables(_Pupils(DEST), INTENTIONS, APPLICATIONS, Y11)
    # SEND is P2 alone: undecided in December, Sixth form in April.
    assert cell(t["round_intended"], "dec", INTENDED_YES, "SEND") == (0, 0.0)
    assert cell(t["round_intended"], "apr", INTENDED_YES, "SEND") == (1, 100.0)
    assert cell(t["round_intended"], "apr", INTENDED_YES, "No SEND") == (3, 60.0)
    # Disadvantaged is P5 alone: an accepted offer by results day, a plan changed with results.
    assert cell(t["round_offer"], "apr", OFFER_YES, "Disadvantaged") == (0, 0.0)
    assert cell(t["round_offer"], "res", OFFER_YES, "Disadvantaged") == (1, 100.0)
    assert cell(t["results_change"], RESULTS_ENTRY, CHANGED_YES, "Disadvantaged") == (1, 100.0)
    assert cell(t["results_change"], RESULTS_ENTRY, CHANGED_YES, "Not disadvantaged") == (0, 0.0)
    # Each breakdown's two groups add up to all pupils.
    table = t["round_applied"]
    for group_pair in (("SEND", "No SEND"), ("EAL", "Not EAL")):
        yes = cell(table, "apr", APPLIED_YES, group_pair[0])[0]
        no = cell(table, "apr", APPLIED_YES, group_pair[1])[0]
        assert yes + no == 3


def test_no_round_rows_no_round_tables() -> None:
    assert _round_tables(_Pupils(DEST), None, None, Y11) == {}
    assert _round_tables(_Pupils(DEST), INTENTIONS.iloc[0:0], APPLICATIONS.iloc[0:0], Y11) == {}
    # Without rounds the Summary tabs are exactly as before.
    big = pd.DataFrame([pupil(n) for n in range(1, 13)])
    plain = summary_tabs(big, TAX, POLICY)
    with_none = summary_tabs(big, TAX, POLICY, intentions=None, applications=None, rounds=Y11)
    assert plain == with_none


def cohort(n: int, school: str = "Northfield") -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """n pupils; pupil i intends a destination in December if i % 3, in April if i % 4; applies
    in April if i % 2; has an offer in the results round if i % 5 < 2; changed with results if
    i % 7 == 0."""
    base = 1000 if school == "Northfield" else 2000
    dest = pd.DataFrame(
        [pupil(base + i, school=school, send="K" if i % 4 == 0 else "N") for i in range(n)]
    )
    rows, apps = [], []
    for i in range(n):
        rows.append(intent(base + i, "y11_december", "College" if i % 3 else "Not decided yet"))
        rows.append(intent(base + i, "y11_april", "College" if i % 4 else "Not decided yet"))
        rows.append(intent(base + i, "y11_results", "College", "2026-08-21" if i % 7 == 0 else ""))
        if i % 2:
            apps.append(app(base + i, "y11_april", 1, "Town College", "A levels", "applied"))
        if i % 5 < 2:
            apps.append(app(base + i, "y11_results", 1, "Town College", "A levels", "offer"))
    for frame in rows:
        frame["school"] = school
    for frame in apps:
        frame["school"] = school
    return dest, pd.DataFrame(rows), pd.DataFrame(apps)


def test_summary_tabs_carry_the_round_tables_suppressed() -> None:
    dest, intents, apps = cohort(40)
    tabs = summary_tabs(
        dest, TAX, POLICY, intentions=intents, applications=apps, rounds=RULES.rounds
    )
    tables = tables_from_rows(tabs["Summary - Northfield"])
    assert set(ROUND_TABLES) <= set(tables)
    t = tables["round_intended"]
    # 40 pupils: December 40 - 14 (i % 3 == 0) = 26; April: December's 26 plus i % 3 == 0 with
    # i % 4 != 0 (3, 6, 9, 15, 18, 21, 27, 30, 33, 39) = 36, so 4 without: below the threshold,
    # hidden with its complement.
    assert cell(t, "y11_december", INTENDED_YES) == (26, 65.0)
    assert symbols(t, "y11_april", INTENDED_YES) and symbols(t, "y11_april", INTENDED_NO)
    assert cell(t, "y11_april", TOTAL) == (40, 100.0)
    # SEND (i % 4 == 0: 10 pupils): 6 with a December plan, 4 without: hidden, size shown.
    assert cell(t, "y11_december", TOTAL, "SEND") == (10, 100.0)
    assert symbols(t, "y11_december", INTENDED_YES, "SEND")
    assert cell(t, "y11_results", INTENDED_YES) == (40, 100.0)
    a = tables["round_applied"]
    assert cell(a, "y11_december", APPLIED_YES) == (0, 0.0)  # nobody had applied in December
    assert cell(a, "y11_april", APPLIED_YES) == (20, 50.0)  # odd i
    assert cell(a, "y11_april", APPLIED_YES, "No SEND") == (20, 67.0)
    # Results: applied = odd i (20) + even i with i % 5 < 2 (0, 6, 10, 16, 20, 26, 30, 36) = 28.
    assert cell(a, "y11_results", APPLIED_YES) == (28, 70.0)
    o = tables["round_offer"]
    assert cell(o, "y11_april", OFFER_YES) == (0, 0.0)
    assert cell(o, "y11_results", OFFER_YES) == (16, 40.0)  # i % 5 in (0, 1): 8 + 8
    # SEND with an offer: 0, 16, 20, 36 = 4: hidden.
    assert symbols(o, "y11_results", OFFER_YES, "SEND")
    r = tables["results_change"]
    # i % 7 == 0: 0, 7, 14, 21, 28, 35 -> 6 pupils (exactly the threshold, published).
    assert cell(r, RESULTS_ENTRY, CHANGED_YES) == (6, 15.0)
    # Small cells are suppressed: no published count between 1 and the threshold.
    for table in tables.values():
        for value in table["count"]:
            assert isinstance(value, str) or value == 0 or value >= POLICY.threshold


def test_a_trust_of_two_schools_adds_the_round_figures_up() -> None:
    d1, i1, a1 = cohort(40)
    d2, i2, a2 = cohort(30, school="Southfield")
    tabs = summary_tabs(
        pd.concat([d1, d2], ignore_index=True),
        TAX,
        POLICY,
        intentions=pd.concat([i1, i2], ignore_index=True),
        applications=pd.concat([a1, a2], ignore_index=True),
        rounds=RULES.rounds,
    )
    trust = tables_from_rows(tabs["Summary - " + TRUST_SCHOOL])["round_intended"]
    # December: 26 of Northfield's 40, 30 - 10 = 20 of Southfield's 30.
    assert cell(trust, "y11_december", INTENDED_YES) == (46, 66.0)  # 65.7, rounded
    assert cell(trust, "y11_december", TOTAL) == (70, 100.0)


def test_a_pupil_text_in_a_round_table_is_caught() -> None:
    """The check compares tables with the round tabs' free text too (the sync refuses to write)."""
    dest, intents, apps = cohort(12)
    t = _round_tables(_Pupils(dest), intents, apps, RULES.rounds)
    leaky = t["round_applied"].copy()
    leaky.loc[0, "category"] = "Town College"  # an application's provider
    from gsync.summary import _checked_pupils

    breaches = check_disclosure({"x": leaky}, POLICY, _checked_pupils(dest, intents, apps))
    assert any(b.kind == "identifying_value" for b in breaches)
    assert not [
        b for b in check_disclosure({"x": leaky}, POLICY, dest) if b.kind == "identifying_value"
    ]


# --- property: nothing published is below the threshold, and group sizes agree -------------------

pupil_st = st.tuples(
    st.sampled_from(["Northfield", "Southfield"]),
    st.sampled_from(["K", "N", "N"]),
    st.sampled_from(["Y", "N"]),
    st.sampled_from(["College", "Not decided yet", ""]),  # December
    st.sampled_from(["College", "Not decided yet", ""]),  # April
    st.sampled_from(["", "applied", "offer", "rejected"]),  # April application
    st.booleans(),  # changed with results
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pupil_st, min_size=1, max_size=40))
def test_round_summaries_never_publish_small_counts(people: list[tuple]) -> None:
    dest_rows, intents, apps = [], [], []
    for n, (school, send, dis, dec, apr, status, changed) in enumerate(people):
        dest_rows.append(pupil(n, school=school, send=send, dis=dis))
        if dec:
            intents.append(intent(n, "y11_december", dec))
        if apr:
            intents.append(intent(n, "y11_april", apr, "2026-08-21" if changed else ""))
        if status:
            apps.append(app(n, "y11_april", 1, "Town College", "A levels", status))
    dest = pd.DataFrame(dest_rows)
    for row in intents + apps:
        row["school"] = dest_rows[int(row["upn"][1:])]["school"]
    tabs = summary_tabs(
        dest,
        TAX,
        POLICY,
        intentions=pd.DataFrame(intents),
        applications=pd.DataFrame(apps),
        rounds=RULES.rounds,
    )  # raises DisclosureError on any breach the checker finds
    sizes: dict[tuple[str, str, str], set[object]] = {}
    for title, rows in tabs.items():
        for kind, table in tables_from_rows(rows).items():
            for r in table.to_dict("records"):
                count = r["count"]
                assert isinstance(count, str) or count == 0 or count >= POLICY.threshold, (
                    title,
                    kind,
                    r,
                )
                if r["category"] == TOTAL and r["school"] != TRUST_SCHOOL:
                    # A group's size is hidden in every table or shown the same in all.
                    sizes.setdefault((r["school"], r["cohort"], r["group"]), set()).add(count)
    for values in sizes.values():
        assert len(values) == 1
