"""Disclosure control: hand-worked suppression, the checker, and property tests over random cohorts."""

from __future__ import annotations

import itertools
import string
import tomllib
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gsync.disclosure import (
    TABLE_COLUMNS,
    TOTAL,
    TRUST_SCHOOL,
    _pinned_columns,
    apply_suppression,
    assert_publishable,
    check_disclosure,
    load_policy,
    parse_policy,
    suppress_tables,
)
from gsync.errors import DisclosureError, SpecError
from gsync.paths import templates_dir
from gsync.summary import APPR_YES, aggregate, links, summary_tables, summary_tabs, vocabulary
from gsync.taxonomy import load_taxonomy

POLICY = load_policy()
TAX = load_taxonomy()


def table(cells: dict[tuple[str, str, str], int], school: str = "Northfield") -> pd.DataFrame:
    """A one-block table from {(breakdown, group, category): count}; percent left raw."""
    rows = []
    totals = {g: n for (_b, g, c), n in cells.items() if c == TOTAL}
    for (b, g, c), n in cells.items():
        rows.append(
            [
                school,
                "2024 Y11",
                "intended",
                b,
                g,
                c,
                n,
                100.0 * n / totals[g] if totals[g] else float("nan"),
            ]
        )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def got(t: pd.DataFrame, group: str, category: str) -> tuple[object, object]:
    row = t[(t["group"] == group) & (t["category"] == category)]
    return row["count"].iloc[0], row["percent"].iloc[0]


# --- the policy file -----------------------------------------------------------------------


def test_shipped_policy_follows_dfe_practice() -> None:
    assert (POLICY.threshold, POLICY.min_base, POLICY.symbol) == (6, 6, "c")
    assert POLICY.small_percent_symbol == "~" and POLICY.secondary and POLICY.percent_decimals == 0
    text = (templates_dir() / "suppression.toml").read_text(encoding="utf-8")
    assert "explore-education-statistics" in text  # the source is cited in the file


def test_policy_errors_name_file_and_key() -> None:
    data = tomllib.loads((templates_dir() / "suppression.toml").read_text(encoding="utf-8"))
    with pytest.raises(SpecError, match=r"my/policy.toml: threshhold"):
        parse_policy({**data, "threshhold": 5}, "my/policy.toml")
    with pytest.raises(SpecError, match="symbol"):
        parse_policy({**data, "symbol": "5"})
    with pytest.raises(SpecError, match="threshold"):
        parse_policy({**data, "threshold": 0})


# --- suppression worked by hand ------------------------------------------------------------


def test_primary_and_secondary_in_one_column() -> None:
    t = table(
        {
            ("all", "All pupils", "A"): 10,
            ("all", "All pupils", "B"): 2,
            ("all", "All pupils", "C"): 8,
            ("all", "All pupils", TOTAL): 20,
        }
    )
    s = apply_suppression(t, POLICY)
    assert got(s, "All pupils", "B") == ("c", "c")  # 2 < 6: primary
    assert got(s, "All pupils", "C") == ("c", "c")  # else B = 20 - 10 - C: secondary, smallest
    assert got(s, "All pupils", "A") == (10, 50.0)
    assert got(s, "All pupils", TOTAL) == (20, 100.0)
    assert t["count"].tolist() == [10, 2, 8, 20]  # input untouched


def test_zero_is_published_and_rounding_is_half_up() -> None:
    t = table(
        {
            ("all", "All pupils", "A"): 7,
            ("all", "All pupils", "B"): 49,
            ("all", "All pupils", "Z"): 0,
            ("all", "All pupils", TOTAL): 56,
        }
    )
    s = apply_suppression(t, POLICY)
    assert got(s, "All pupils", "A") == (7, 13.0)  # 12.5 rounds up (not to even)
    assert got(s, "All pupils", "B") == (49, 88.0)  # 87.5
    assert got(s, "All pupils", "Z") == (0, 0.0)  # DfE publishes true zeros


def test_positive_percentage_below_half_uses_tilde() -> None:
    t = table(
        {
            ("all", "All pupils", "A"): 6,
            ("all", "All pupils", "B"): 1294,
            ("all", "All pupils", TOTAL): 1300,
        }
    )
    s = apply_suppression(t, POLICY)
    assert got(s, "All pupils", "A") == (6, "~")  # 0.46%
    assert got(s, "All pupils", "B") == (1294, 100.0)  # 99.54% rounds to 100


def test_small_group_is_suppressed_whole_and_its_complement_protected() -> None:
    cells = {
        ("all", "All pupils", "A"): 20,
        ("all", "All pupils", "B"): 12,
        ("all", "All pupils", TOTAL): 32,
        ("looked_after", "Looked after", "A"): 4,
        ("looked_after", "Looked after", "B"): 0,
        ("looked_after", "Looked after", TOTAL): 4,
        ("looked_after", "Not looked after", "A"): 16,
        ("looked_after", "Not looked after", "B"): 12,
        ("looked_after", "Not looked after", TOTAL): 28,
    }
    s = apply_suppression(table(cells), POLICY)
    # Four looked-after pupils: fewer than 6, so the whole column goes, its zero and size too.
    for cat in ("A", "B", TOTAL):
        assert got(s, "Looked after", cat)[0] == "c"
    # Not looked after = All - Looked after, row by row: that column must go as well.
    for cat in ("A", "B", TOTAL):
        assert got(s, "Not looked after", cat)[0] == "c"
    assert got(s, "All pupils", "A") == (20, 63.0)  # 62.5 rounds up
    assert check_disclosure({"t": s}, POLICY, pd.DataFrame()) == []


def test_already_suppressed_table_is_refused() -> None:
    t = table(
        {
            ("all", "All pupils", "A"): 9,
            ("all", "All pupils", "B"): 3,
            ("all", "All pupils", "C"): 7,
            ("all", "All pupils", TOTAL): 19,
        }
    )
    s = apply_suppression(t, POLICY)
    with pytest.raises(ValueError, match="already suppressed"):
        apply_suppression(s, POLICY)


# --- the checker ---------------------------------------------------------------------------


def test_checker_finds_small_counts_recoverable_cells_and_percentages() -> None:
    t = table(
        {
            ("all", "All pupils", "A"): 10,
            ("all", "All pupils", "B"): 2,
            ("all", "All pupils", "C"): 8,
            ("all", "All pupils", TOTAL): 20,
        }
    )
    raw = t.astype({"count": object, "percent": object})
    kinds = {b.kind for b in check_disclosure({"t": raw}, POLICY, pd.DataFrame())}
    assert "small_count" in kinds  # 2 published
    only_primary = raw.copy()
    only_primary.loc[1, ["count", "percent"]] = ["c", "c"]
    breaches = check_disclosure({"t": only_primary}, POLICY, pd.DataFrame())
    assert [b.kind for b in breaches] == ["recoverable"]  # B = 20 - 10 - 8
    assert "B" in breaches[0].where
    leaky = only_primary.copy()
    leaky.loc[2, "count"] = "c"  # C hidden but its percentage left: 8 / 20 = 40%
    assert {b.kind for b in check_disclosure({"t": leaky}, POLICY, pd.DataFrame())} == {"percent"}
    with pytest.raises(DisclosureError) as err:
        assert_publishable({"t": only_primary}, POLICY, pd.DataFrame())
    assert err.value.exit_code == 8


def test_checker_finds_identifying_values_without_repeating_them() -> None:
    pupils = pd.DataFrame(
        {
            "upn": ["A123456789012"],
            "first_name": ["Zebedee"],
            "last_name": ["Quill"],
            "date_of_birth": ["2008-02-29"],
            "personal_email": ["zq@example.org"],
            "telephone": ["07700900123"],
            "intended_other": ["Works at Quill's Bakery"],
            "intended_course": ["Apprenticeship"],  # equal to a label: not identifying
        }
    )
    s = apply_suppression(
        table({("all", "All pupils", "A"): 9, ("all", "All pupils", TOTAL): 9}), POLICY
    )
    assert check_disclosure({"t": s}, POLICY, pupils, vocabulary=vocabulary(TAX)) == []
    for leaked, col in [
        ("Zebedee", "first_name"),
        ("pupil A123456789012", "upn"),
        ("born 2008-02-29", "date_of_birth"),
        ("ZQ@example.org", "personal_email"),
        ("call 07700900123", "telephone"),
        ("Works at Quill's Bakery", "intended_other"),
    ]:
        bad = s.copy()
        bad.loc[0, "category"] = leaked
        breaches = check_disclosure({"t": bad}, POLICY, pupils, vocabulary=vocabulary(TAX))
        hits = [b for b in breaches if b.kind == "identifying_value"]
        assert hits and col in hits[0].detail, leaked
        assert all(leaked.casefold() not in b.render().casefold() for b in breaches)
    extra = s.assign(upn="x")
    assert any(
        b.kind == "column" and b.where == "upn"
        for b in check_disclosure({"t": extra}, POLICY, pupils)
    )


# --- the linear algebra, checked against numpy's rank ---------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 7), st.integers(1, 9), st.data())
def test_pinned_columns_match_rank_test(rows: int, cols: int, data: st.DataObject) -> None:
    entries = data.draw(
        st.lists(st.sampled_from([-1.0, 0.0, 0.0, 1.0]), min_size=rows * cols, max_size=rows * cols)
    )
    a = np.array(entries).reshape(rows, cols)
    rank = np.linalg.matrix_rank(a)
    expected = [
        i for i in range(cols) if np.linalg.matrix_rank(np.vstack([a, np.eye(cols)[i]])) == rank
    ]
    assert _pinned_columns(a) == expected


# --- property tests over random cohorts -----------------------------------------------------

DESTS = [
    "Sixth form",
    "College",
    "Apprenticeship",
    "Employment with training",
    "Traineeship",
    "Voluntary work",
    "Other",
    "",
    "NEET",
    "Degree apprenticeship",
]
LEVELS = ["", "Level 2", "Level 3", "Level 4", "Level 6", "Not sure"]

pupil_st = st.tuples(
    st.sampled_from(["Northfield", "Southgate", "Eastwood"]),
    st.sampled_from(["2023", "2024"]),
    st.sampled_from(DESTS),
    st.sampled_from(LEVELS),
    st.sampled_from("KENNN"),
    st.sampled_from("YN"),
    st.sampled_from("YNN"),
    st.sampled_from("YNNNN"),
)


def cohort_frame(pupils: list[tuple[str, ...]], names: list[str] | None = None) -> pd.DataFrame:
    rows = []
    for i, (school, year, dest, level, send, dis, eal, lac) in enumerate(pupils):
        name = names[i % len(names)] if names else f"Name{i}"
        rows.append(
            {
                "school": school,
                "upn": f"B{i:012d}",
                "first_name": name,
                "last_name": name + "son",
                "date_of_birth": f"2007-0{i % 9 + 1}-1{i % 10}",
                "personal_email": f"{name}{i}@mail.test",
                "telephone": f"07700{i:06d}",
                "leaving_year": year,
                "phase": "Y11",
                "send": send,
                "disadvantaged": dis,
                "eal": eal,
                "looked_after": lac,
                "intended_destination": dest,
                "intended_level": level,
                "intended_other": f"{name} plans",
            }
        )
    return pd.DataFrame(rows)


def raw_with_trust(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    raw = summary_tables(frame, TAX, entry="intended")[kind]
    return pd.concat([raw, aggregate([raw])], ignore_index=True)


def independent_equations(t: pd.DataFrame) -> list[list[tuple[int, float]]]:
    """The table's additive relations, rebuilt here from first principles (row index, sign)."""
    idx = {tuple(r[:6]): i for i, r in enumerate(t[TABLE_COLUMNS].itertuples(index=False))}
    eqs: list[list[tuple[int, float]]] = []
    for (s, c, e, b, g), block in t.groupby(["school", "cohort", "entry", "breakdown", "group"]):
        total = idx[(s, c, e, b, g, TOTAL)]
        eqs.append(
            [(total, 1.0)]
            + [(idx[(s, c, e, b, g, cat)], -1.0) for cat in block["category"] if cat != TOTAL]
        )
    for (s, c, e, b), block in t[t["breakdown"] != "all"].groupby(
        ["school", "cohort", "entry", "breakdown"]
    ):
        groups = sorted(set(block["group"]))
        for cat in set(block["category"]):
            eqs.append(
                [(idx[(s, c, e, "all", "All pupils", cat)], 1.0)]
                + [(idx[(s, c, e, b, g, cat)], -1.0) for g in groups]
            )
    trust = t[t["school"] == TRUST_SCHOOL]
    for r in trust.itertuples(index=False):
        parts = [
            (i, -1.0)
            for k, i in idx.items()
            if k[0] != TRUST_SCHOOL and k[1:] == (r[1], r[2], r[3], r[4], r[5])
        ]
        eqs.append([(idx[tuple(r[:6])], 1.0), *parts])
    return eqs


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(pupil_st, min_size=1, max_size=36),
    st.sampled_from(["destinations", "level3", "higher_education"]),
)
def test_property_no_small_count_and_nothing_recoverable(
    pupils: list[tuple[str, ...]], kind: str
) -> None:
    frame = cohort_frame(pupils)
    raws = {
        k: raw_with_trust(frame, k)
        for k in ("destinations", "level3", "apprenticeship", "higher_education")
    }
    sups = suppress_tables(raws, POLICY, links(TAX))
    raw, sup = raws[kind], sups[kind]
    counts = sup["count"].tolist()
    hidden = [i for i, v in enumerate(counts) if v == POLICY.symbol]
    # 1. No published count below the threshold, no published group smaller than min_base.
    for i, v in enumerate(counts):
        if v != POLICY.symbol:
            assert v == raw["count"].iloc[i]
            assert v == 0 or v >= POLICY.threshold
            if sup["category"].iloc[i] == TOTAL:
                assert v >= POLICY.min_base
            pct = sup["percent"].iloc[i]
            if isinstance(pct, str):  # only "~", or "c" when the group's size is suppressed
                base = sup[
                    (
                        sup[["school", "cohort", "group"]]
                        == sup.iloc[i][["school", "cohort", "group"]]
                    ).all(axis=1)
                    & (sup["category"] == TOTAL)
                ]["count"].iloc[0]
                assert pct == POLICY.small_percent_symbol or (
                    pct == POLICY.symbol and base == POLICY.symbol
                )
    eqs = independent_equations(raw)
    # 2. Fast rule: no relation with exactly one suppressed cell.
    hidden_set = set(hidden)
    for eq in eqs:
        assert sum(i in hidden_set for i, _ in eq) != 1
    # 3. Exact rule: no suppressed cell can be solved for. Relations never cross cohorts, so per
    # cohort: x_j is solvable iff e_j lies in the row space of A (the relations over hidden cells).
    cohort_of = raw["cohort"].tolist()
    for cohort in set(cohort_of):
        mine = [i for i in hidden if cohort_of[i] == cohort]
        if not mine:
            continue
        pos = {i: j for j, i in enumerate(mine)}
        block = [eq for eq in eqs if cohort_of[eq[0][0]] == cohort]
        a = np.zeros((len(block), len(mine)))
        for r, eq in enumerate(block):
            for i, sign in eq:
                if i in pos:
                    a[r, pos[i]] += sign
        # Elimination checked against numpy's rank in test_pinned_columns_match_rank_test.
        assert _pinned_columns(a) == []

    # 4. A cell two tables share is hidden in both or neither (group sizes, apprenticeships).
    def status(table: pd.DataFrame, category: str) -> list[object]:
        return (
            table[table["category"] == category]["count"].map(lambda v: v == POLICY.symbol).tolist()
        )

    for other in ("level3", "apprenticeship", "higher_education"):
        assert status(sups["destinations"], TOTAL) == status(sups[other], TOTAL)
    assert status(sups["destinations"], "Apprenticeship") == status(
        sups["apprenticeship"], APPR_YES
    )
    # 5. The checker agrees, over all four tables and their links.
    assert check_disclosure(sups, POLICY, frame, vocabulary=vocabulary(TAX), links=links(TAX)) == []


def test_checker_sees_a_cell_recovered_from_another_table() -> None:
    d = table(
        {
            ("all", "All pupils", "A"): 9,
            ("all", "All pupils", "B"): 7,
            ("all", "All pupils", TOTAL): 16,
        }
    )
    lv = table(
        {
            ("all", "All pupils", "Yes"): 10,
            ("all", "All pupils", "No"): 6,
            ("all", "All pupils", TOTAL): 16,
        }
    )
    d = d.astype({"count": object, "percent": object})
    lv = lv.astype({"count": object, "percent": object})
    d.loc[:, ["count", "percent"]] = "c"  # every destinations cell hidden ...
    tables = {"destinations": d, "level3": lv}  # ... but the group size is published in level3
    assert check_disclosure(tables, POLICY, pd.DataFrame()) == []  # unlinked: looks fine
    linked = check_disclosure(
        tables, POLICY, pd.DataFrame(), links=[(("destinations", TOTAL), ("level3", TOTAL))]
    )
    assert [(b.kind, b.table) for b in linked] == [("recoverable", "destinations")]
    assert linked[0].where.endswith("Total")


@settings(max_examples=30, deadline=None)
@given(st.lists(pupil_st, min_size=6, max_size=30))
def test_property_published_percentages_are_rounded_half_up(pupils: list[tuple[str, ...]]) -> None:
    raw = summary_tables(cohort_frame(pupils), TAX, entry="intended")["destinations"]
    sup = apply_suppression(raw, POLICY)
    totals = {
        (r.school, r.cohort, r.group): int(r.count)
        for r in raw[raw["category"] == TOTAL].itertuples()
    }
    for r, pct in zip(raw.itertuples(), sup["percent"], strict=True):
        if isinstance(pct, float):
            exact = (
                Decimal(100)
                * Decimal(int(r.count))
                / Decimal(totals[(r.school, r.cohort, r.group)])
            )
            assert pct == float(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


STRUCTURE = {
    w.casefold()
    for w in [*vocabulary(TAX), *TABLE_COLUMNS, "table", "Northfield", "Southgate", "Eastwood"]
}
name_st = st.text(alphabet=string.ascii_letters, min_size=3, max_size=10).filter(
    lambda n: n.casefold() not in STRUCTURE
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pupil_st, min_size=1, max_size=24), st.lists(name_st, min_size=1, max_size=5))
def test_property_no_identifying_value_reaches_a_summary(
    pupils: list[tuple[str, ...]], names: list[str]
) -> None:
    frame = cohort_frame(pupils, names)
    tabs = summary_tabs(frame, TAX, POLICY)
    cells = [str(v).casefold() for rows in tabs.values() for row in rows for v in row]
    strong = itertools.chain(
        frame["upn"], frame["date_of_birth"], frame["personal_email"], frame["telephone"]
    )
    for value in {v.casefold() for v in strong}:
        assert not any(value in c for c in cells), value
    for value in {
        v.casefold()
        for v in itertools.chain(frame["first_name"], frame["last_name"], frame["intended_other"])
    }:
        assert value not in cells, value
