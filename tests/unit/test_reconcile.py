"""Reconciliation verdicts (every one) and the accept step, from the realistic LA fixtures."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from gsync import la, reconcile
from gsync.taxonomy import load_taxonomy
from tests.unit.test_la import FIX, destinations

TAX = load_taxonomy()
DAY = dt.date(2026, 1, 15)


def school_records() -> pd.DataFrame:
    dest = destinations()
    for col in reconcile.VALIDATED_COLUMNS:
        dest[col] = ""
    for e in ("actual_unvalidated", "intended"):
        for f in ("destination", "level", "other"):
            dest[f"{e}_{f}"] = ""
    sets = {
        "Z201122500010": ("actual_unvalidated", "College", ""),  # LA: FE -> agree
        "B201122500021": ("intended", "Sixth form", ""),  # LA: apprenticeship -> disagree
        "F201122500043": ("actual_unvalidated", "Apprenticeship", "Level 3"),  # LA level 2
        "H201122500054": ("actual_unvalidated", "Employment with training", ""),  # LA 810
        "P201122500087": ("actual_validated", "Unknown", ""),  # unknown is no record
    }
    for upn, (entry, value, level) in sets.items():
        i = dest.index[dest["upn"] == upn][0]
        dest.at[i, f"{entry}_destination"] = value
        dest.at[i, f"{entry}_level"] = level
    return dest


def la_data() -> pd.DataFrame:
    result = la.read_la_file(FIX / "la_portal_bom.csv", taxonomy=TAX, leaving_year=2025)
    matched = la.match_la(result.records, destinations(), school="Northfield")
    return la.la_frame(matched, TAX, school="Northfield", imported="2026-01-10", source="x.csv")


def by_upn(frame: pd.DataFrame) -> dict[str, dict[str, str]]:
    return {r["upn"]: r for r in frame.to_dict("records")}


def test_every_verdict() -> None:
    frame = reconcile.reconcile_frame(pd.DataFrame(), school_records(), la_data(), TAX)
    rows = by_upn(frame)
    assert len(frame) == 9  # every pupil of the cohort, none twice
    got = {u: (r["verdict"], r["difference"]) for u, r in rows.items()}
    assert got == {
        "Z201122500010": ("agree", ""),
        "B201122500021": ("disagree", "school: School sixth form; LA: Apprenticeship"),
        "D201122500032": ("only the LA", ""),
        "F201122500043": (
            "disagree",
            "apprenticeship level - school: advanced; LA: intermediate",
        ),
        "H201122500054": ("only the school", ""),
        "K201122500065": ("neither", ""),
        "M201122500076": ("only the LA", ""),  # matched by name and date of birth
        "P201122500087": ("neither", ""),  # ambiguous LA row is used for nobody
        "R201122500098": ("neither", ""),
    }
    amelia = rows["Z201122500010"]
    # The newer of the two LA rows is the one shown (the older said NEET).
    assert (amelia["la_code"], amelia["la_category"]) == ("230", "Further education college")
    assert amelia["school_entry"] == "actual_unvalidated" and amelia["name"] == "Amelia Khan"
    assert rows["M201122500076"]["name"] == "Chloe Dupont"


def test_no_rows_for_cohorts_without_la_data() -> None:
    data = la_data()
    data["leaving_year"] = "2024"
    frame = reconcile.reconcile_frame(pd.DataFrame(), school_records(), data, TAX)
    assert frame.empty


def test_existing_rows_keep_place_and_staff_cells() -> None:
    first = reconcile.reconcile_frame(pd.DataFrame(), school_records(), la_data(), TAX)
    first = first.iloc[::-1].reset_index(drop=True)
    first.loc[0, "note"] = "rang college"
    first.loc[0, "accept"] = reconcile.ACCEPT
    again = reconcile.reconcile_frame(first, school_records(), la_data(), TAX)
    assert list(again["upn"]) == list(first["upn"])
    assert again.loc[0, "note"] == "rang college" and again.loc[0, "accept"] == reconcile.ACCEPT


def accept(upns: list[str]) -> pd.DataFrame:
    frame = reconcile.reconcile_frame(pd.DataFrame(), school_records(), la_data(), TAX)
    frame.loc[frame["upn"].isin(upns), "accept"] = reconcile.ACCEPT
    return frame


def test_accept_fills_only_an_empty_validated_entry_with_source_la() -> None:
    dest = school_records()
    recon = accept(["D201122500032", "H201122500054", "K201122500065", "M201122500076"])
    i = dest.index[dest["upn"] == "M201122500076"][0]
    dest.at[i, "actual_validated_destination"] = "Employment without training"  # staff's own
    new, statuses = reconcile.apply_accepted(dest, recon, la_data(), TAX, DAY)
    key = ("Northfield", "D201122500032", "2025")
    assert statuses[key] == reconcile.APPLIED
    zoe = by_upn(new)["D201122500032"]
    assert zoe["actual_validated_destination"] == "Sixth-form college"
    assert zoe["actual_validated_source"] == "LA" and zoe["actual_validated_validated"] == "Y"
    assert zoe["actual_validated_provider"] == "City Sixth Form College"
    assert zoe["actual_validated_level"] == "Level 3"
    assert zoe["actual_validated_recorded"] == "2026-01-15"
    assert zoe["actual_validated_other"].startswith("NCCIS 220")
    # 810 "not known" is no destination; Noah has no LA row; Chloé's entry is staff's.
    assert statuses[("Northfield", "H201122500054", "2025")] == reconcile.NOT_APPLIED_NO_LA
    assert statuses[("Northfield", "K201122500065", "2025")] == reconcile.NOT_APPLIED_NO_LA
    assert statuses[("Northfield", "M201122500076", "2025")] == reconcile.NOT_APPLIED_FILLED
    assert by_upn(new)["M201122500076"]["actual_validated_destination"] == (
        "Employment without training"
    )
    # Nobody else changed, and the input frame is untouched.
    assert (
        (
            new.drop(index=new.index[new["upn"] == "D201122500032"])
            == dest.drop(index=dest.index[dest["upn"] == "D201122500032"])
        )
        .all()
        .all()
    )
    assert by_upn(dest)["D201122500032"]["actual_validated_destination"] == ""


def test_accept_is_idempotent_and_then_agrees() -> None:
    recon = accept(["D201122500032"])
    once, _ = reconcile.apply_accepted(school_records(), recon, la_data(), TAX, DAY)
    later = DAY + dt.timedelta(days=1)
    twice, statuses = reconcile.apply_accepted(once, recon, la_data(), TAX, later)
    assert statuses[("Northfield", "D201122500032", "2025")] == reconcile.APPLIED
    assert by_upn(twice)["D201122500032"]["actual_validated_recorded"] == "2026-01-15"
    frame = reconcile.reconcile_frame(recon, twice, la_data(), TAX, statuses)
    row = by_upn(frame)["D201122500032"]
    assert (row["verdict"], row["school_entry"], row["accept_status"]) == (
        "agree",
        "actual_validated",
        "applied",
    )


def test_accept_replaces_the_three_attempts_placeholder() -> None:
    dest = school_records()
    i = dest.index[dest["upn"] == "D201122500032"][0]
    dest.at[i, "actual_validated_destination"] = "Unknown"
    dest.at[i, "actual_validated_source"] = "unknown (3 attempts)"
    new, _statuses = reconcile.apply_accepted(dest, accept(["D201122500032"]), la_data(), TAX, DAY)
    assert by_upn(new)["D201122500032"]["actual_validated_source"] == "LA"


def test_apprenticeship_level_picks_the_dropdown_value() -> None:
    cat = TAX.categorise("310", "Level 2")
    assert reconcile.dropdown_value(cat, TAX) == "Apprenticeship - intermediate (Level 2)"
    unknown_level = TAX.categorise("310")
    assert reconcile.dropdown_value(unknown_level, TAX) == "Apprenticeship - level not known"
    advanced = TAX.categorise("Apprenticeship - advanced (Level 3)")
    assert reconcile.dropdown_value(advanced, TAX) == "Apprenticeship - advanced (Level 3)"


def test_verdict_counts() -> None:
    frame = reconcile.reconcile_frame(pd.DataFrame(), school_records(), la_data(), TAX)
    counts = reconcile.verdict_counts(frame)
    assert counts == {
        ("Northfield", "2025"): {
            "agree": 1,
            "disagree": 2,
            "only the school": 1,
            "only the LA": 2,
            "neither": 3,
        }
    }
