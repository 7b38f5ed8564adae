"""The fast paths of gsync.disclosure give exactly what the frozen code before the speed-up gave.

`_reference_disclosure` is the frozen copy. These cases aim at what the fast paths change: the
secondary suppression that visits only equations with one hidden cell and reuses the answers of
unchanged components, and the checker's substring look-ups (values at the start or end of a cell,
values inside other values, long cells, several columns holding the same value).
"""

from __future__ import annotations

import random
from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gsync import disclosure
from gsync.disclosure import ALL_GROUP, KEY_COLUMNS, TABLE_COLUMNS, TOTAL, TRUST_SCHOOL, CellKey
from tests.unit import _reference_disclosure as ref

POLICY = disclosure.load_policy()
REF_POLICY = ref.load_policy()
Eqs = list[tuple[CellKey, list[CellKey]]]


def live_equations(table: pd.DataFrame) -> Eqs:
    """The equations `apply_suppression` and `check_disclosure` build (`_shared_cells`), by key."""
    columns = {k: [str(v) for v in table[k].tolist()] for k in KEY_COLUMNS}
    cells, eqs = disclosure._shared_cells(columns)
    return cells.keyed(*eqs)


def _system(seed: int) -> tuple[Eqs, dict[CellKey, int], set[CellKey]]:
    """Random equations over random cells: repeated cells, empty parts, trust / Total cells."""
    rng = random.Random(seed)
    n_cells = rng.randint(3, 40)
    cells: list[CellKey] = []
    for i in range(n_cells):
        school = TRUST_SCHOOL if rng.random() < 0.15 else f"S{rng.randint(0, 3)}"
        group = "All pupils" if rng.random() < 0.2 else f"g{rng.randint(0, 2)}"
        category = TOTAL if rng.random() < 0.2 else f"c{i}"
        cohort, entry = rng.choice([("2025 Y11", "a"), ("2026 Y11", "a"), ("2026 Y11", "b")])
        cells.append((school, cohort, entry, group, category))
    cells = list(dict.fromkeys(cells))
    eqs: Eqs = []
    for _ in range(rng.randint(1, 3 * len(cells))):
        total = rng.choice(cells)
        size = rng.choice([0, 1, 1, 2, 2, 3, 4, 6])
        parts = [rng.choice(cells) for _ in range(size)]
        if rng.random() < 0.1 and parts:
            parts.append(parts[0])  # a cell twice in one equation
        if rng.random() < 0.05:
            parts.append(total)  # the total among its own parts
        eqs.append((total, parts))
    if rng.random() < 0.3 and eqs:
        eqs.append(eqs[0])  # the same equation twice
    counts = {k: rng.choice([0, 0, 1, 2, 3, 5, 6, 7, 10, 25, 100]) for k in cells}
    hidden = {k for k in cells if rng.random() < rng.choice([0.05, 0.15, 0.4])}
    return eqs, counts, hidden


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except AssertionError as exc:
        return ("AssertionError", str(exc))


def _numbered(eqs: Eqs, *more: Any) -> tuple[list[CellKey], disclosure._System]:
    """The cells of `eqs` and `more`, sorted, and the live `_System` of `eqs` by their numbers
    (the numbers the suppression gives a table's cells: in key order)."""
    keys = sorted({k for t, ps in eqs for k in (t, *ps)}.union(*more))
    number = {k: i for i, k in enumerate(keys)}
    ptr = np.zeros(len(eqs) + 1, dtype=np.int64)
    np.cumsum([1 + len(ps) for _t, ps in eqs], out=ptr[1:])
    members = np.array([number[k] for t, ps in eqs for k in (t, *ps)], dtype=np.int64)
    return keys, disclosure._System(ptr, members, len(keys))


def live_determined(eqs: Eqs, hidden: set[CellKey]) -> set[CellKey]:
    """`ref._determined` through the live `_System` (as `check_disclosure` uses it)."""
    keys, system = _numbered(eqs, hidden)
    for i, k in enumerate(keys):
        if k in hidden:
            system.hide(i)
    return {keys[i] for i in system.determined()}


def live_secondary(eqs: Eqs, counts: dict[CellKey, int], hidden: set[CellKey]) -> set[CellKey]:
    """`ref._secondary` through the live `_cost_ranks` order (`_ranked`) and `_secondary_cells`
    (as `apply_suppression` uses them), every cell having a count."""
    keys, system = _numbered(eqs, counts, hidden)
    assert set(keys) == set(counts)
    flags = tuple(
        np.array([f(k) for k in keys], dtype=bool)
        for f in (
            lambda k: k[0] == TRUST_SCHOOL,
            lambda k: k[3] == ALL_GROUP,
            lambda k: k[4] == TOTAL,
        )
    )
    n = np.array([counts[k] for k in keys], dtype=np.int64)
    ranks = disclosure._ranked((flags[0], flags[1], flags[2]), n)
    block_of: dict[tuple[str, str], int] = {}
    block = [block_of.setdefault(k[1:3], len(block_of)) for k in keys]
    start = [i for i, k in enumerate(keys) if k in hidden]
    found = disclosure._secondary_cells(system, start, ranks, block)
    return {keys[i] for i in found.tolist()}


@pytest.mark.parametrize("seed", range(300))
def test_secondary_and_determined_identical(seed: int) -> None:
    """Any equations (a cell twice in one, a total among its own parts, an equation twice,
    systems that cannot be suppressed): the live solver and greedy as the frozen code."""
    eqs, counts, hidden = _system(seed)
    assert live_determined(eqs, hidden) == ref._determined(eqs, hidden)
    want = _outcome(ref._secondary, eqs, counts, set(hidden))
    got = _outcome(live_secondary, eqs, counts, set(hidden))
    assert got == want


def test_secondary_systems_exercise_both_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The random systems above do need the exact rule (and more than one fast pass)."""
    exact = 0
    calls = 0

    def counting(eqs: Eqs, hidden: set[CellKey]) -> set[CellKey]:
        nonlocal calls
        calls += 1
        return ref_determined(eqs, hidden)

    ref_determined = ref._determined
    monkeypatch.setattr(ref, "_determined", counting)
    for seed in range(300):
        eqs, counts, hidden = _system(seed)
        before = calls
        _outcome(ref._secondary, eqs, counts, set(hidden))
        exact += calls - before > 1  # the exact rule hid something
    assert exact >= 20


def _block(rng: random.Random, school: str, cohort: str, entry: str) -> list[list[Any]]:
    rows: list[list[Any]] = []
    cats = ["Education", "Employment", "NEET", "Unknown"]
    groups = {"all": ["All pupils"], "send": ["SEND", "Not SEND"], "eal": ["EAL", "Not EAL"]}
    base = {c: rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 30]) for c in cats}
    for b, gs in groups.items():
        split = {c: rng.randint(0, n) for c, n in base.items()}
        for i, g in enumerate(gs):
            vals = (
                base if b == "all" else (split if i == 0 else {c: base[c] - split[c] for c in cats})
            )
            for c in cats:
                rows.append([school, cohort, entry, b, g, c, vals[c], 0.0])
            rows.append([school, cohort, entry, b, g, TOTAL, sum(vals.values()), 100.0])
    return rows


def random_table(rng: random.Random, max_schools: int = 5) -> pd.DataFrame:
    """A Summary table of 1..max_schools schools x two cohorts, with the trust's rows when
    there are several schools."""
    rows: list[list[Any]] = []
    schools = [f"School {chr(65 + i)}" for i in range(rng.randint(1, max_schools))]
    for s in schools:
        for cohort in ("2025 Y11", "2026 Y11"):
            rows.extend(_block(rng, s, cohort, "intended"))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if len(schools) > 1:
        trust = table.groupby(TABLE_COLUMNS[:6], sort=False, as_index=False)["count"].sum()
        trust["school"] = TRUST_SCHOOL
        trust["percent"] = 0.0
        table = pd.concat([table, trust[TABLE_COLUMNS]], ignore_index=True)
    return table


@pytest.mark.parametrize("seed", range(12))
def test_apply_suppression_identical_on_random_trusts(seed: int) -> None:
    table = random_table(random.Random(1000 + seed))
    got = disclosure.apply_suppression(table, POLICY)
    want = ref.apply_suppression(table, REF_POLICY)
    assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes]
    for c in TABLE_COLUMNS:
        assert [(type(v), v) for v in got[c].tolist()] == [(type(v), v) for v in want[c].tolist()]
    assert (got["count"] == POLICY.symbol).any()


# --- the checker's look-ups ------------------------------------------------------------------


def _breaches(module: Any, tables: dict[str, pd.DataFrame], pupils: pd.DataFrame) -> list[tuple]:
    policy = POLICY if module is disclosure else REF_POLICY
    found = module.check_disclosure(tables, policy, pupils, vocabulary=["Total", "ab", "Gap year"])
    return [astuple(b) for b in found]


def _text_table(texts: list[Any]) -> pd.DataFrame:
    """A one-column table of the given texts (plus the summary columns, all innocuous)."""
    rows = [["S", "2026 Y11", "intended", "all", "All pupils", TOTAL, 10, 100.0] for _ in texts]
    t = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    t["category"] = pd.Series(texts, dtype=object)
    return t


def test_checker_look_ups_identical_on_chosen_cells() -> None:
    pupils = pd.DataFrame(
        {
            "upn": ["A123456789012", "B9", "a123456789012", None, 17],
            "date_of_birth": ["2009-01-02", "2009-01-02 ", "2010-1-1", "x", "12"],
            "school_email": ["ann.lee@x.org", "bo@x.org", "B9", "  ", "ab"],
            "telephone": ["07700 900123", "0770", "900123", "+44 7700", 1.5],
            "legal_forename": ["Ann", "Bo", "Cy", "Ann", "ab"],
            "legal_surname": ["Lee", "Lee Smith", "O'Neil", "Lee", "x"],
            "preferred_name": ["Ann Lee", "bo  lee smith", "cy o'neil", "ANN LEE", "ab ab"],
            "intended_other": ["Gap year", "Army", "army", "", "Family business"],
            "notes": ["seen", "a long note about Ann Lee", None, True, 1],
        }
    )
    # Many more pupils, so that short cells are looked up by their substrings, long ones scanned.
    filler = pd.DataFrame(
        {
            "upn": [f"Z{i:012d}" for i in range(400)],
            "date_of_birth": [f"2008-{i % 12 + 1:02d}-{i % 28 + 1:02d}" for i in range(400)],
            "school_email": [f"p{i}@school.org" for i in range(400)],
        }
    )
    pupils = pd.concat([pupils, filler], ignore_index=True)
    long_cell = "x" * 300 + " ann lee " + "y" * 300 + "0770"
    texts: list[Any] = [
        "A123456789012",  # a whole strong value
        "pupil a123456789012 left",  # inside, other case
        "2009-01-02",
        "born 2009-01-02",  # at the end
        "2009-01-02 born",  # at the start
        "call 07700 900123",  # two strong values, one inside the other
        "900123 or 0770",  # the later-listed value comes first in the text
        "bo@x.org",
        "ann.lee@x.org and B9",  # two columns' values in one cell
        "Ann Lee",
        "ann   LEE",  # whitespace and case
        "Bo Lee Smith was here",  # a full name inside a cell
        "cy o'neil",
        "Ann",  # a single name: only a whole cell counts
        "Annabel",
        "Army",
        "army ",
        "Gap year",  # in the vocabulary
        "ab",
        "ab ab",
        "12",
        "1.5",
        "True",
        "17",
        long_cell,  # long: scanned, not enumerated
        long_cell.replace("ann lee", "nobody"),
        "",
        " ",
        "Lee",
        "x",
        float("nan"),
        None,
        3,
    ]
    tables = {"t": _text_table(texts), "u": _text_table(list(reversed(texts)))}
    want = _breaches(ref, tables, pupils)
    assert _breaches(disclosure, tables, pupils) == want
    assert len([b for b in want if b[0] == "identifying_value"]) >= 30


@pytest.mark.parametrize("seed", range(40))
def test_checker_look_ups_identical_on_random_texts(seed: int) -> None:
    """Texts over a tiny alphabet: values inside values and inside cells all the time."""
    rng = random.Random(seed)

    def text(lo: int, hi: int) -> str:
        return "".join(rng.choice("abc  A\t") for _ in range(rng.randint(lo, hi)))

    n = rng.randint(1, 30)
    pupils = pd.DataFrame(
        {
            "upn": [text(2, 6) for _ in range(n)],
            "personal_email": [text(3, 9) for _ in range(n)],
            "legal_forename": [text(1, 4) for _ in range(n)],
            "full_name": [text(3, 8) for _ in range(n)],
            "y2_summer_course": [text(1, 5) for _ in range(n)],
        }
    )
    long = rng.choice([10, 40, 400])
    texts = [text(0, long) for _ in range(rng.randint(1, 60))]
    want = _breaches(ref, {"t": _text_table(texts)}, pupils)
    assert _breaches(disclosure, {"t": _text_table(texts)}, pupils) == want


def test_substrings_first_in_matches_a_scan() -> None:
    """Both ways of `_Substrings.first_in` (enumeration and the long-cell scan) on one input."""
    rng = random.Random(5)
    values = {
        "".join(rng.choice("ab") for _ in range(rng.randint(2, 7))): f"c{i}" for i in range(40)
    }
    finder = disclosure._Substrings(values)
    for _ in range(500):
        cell = "".join(rng.choice("abc") for _ in range(rng.randint(0, 60)))
        want = next((c for v, c in values.items() if v in cell), None)
        assert finder.first_in(cell) == want


@pytest.mark.parametrize("seed", range(30))
def test_equations_identical_on_ragged_tables(seed: int) -> None:
    """Missing cells, repeated rows, groups without a Total, numbers as keys: same equations."""
    rng = random.Random(2000 + seed)
    rows: list[list[Any]] = []
    schools = [f"S{i}" for i in range(rng.randint(1, 4))] + [TRUST_SCHOOL]
    for s in schools:
        for cohort in ("2025 Y11", 2026):
            for b, gs in (("all", ["All pupils"]), ("send", ["SEND", "Not SEND"]), ("x", ["X"])):
                for g in gs:
                    for cat in (TOTAL, "b", "a", "c", "All pupils", 7):
                        for entry in ("t1\x1fintended", "t2\x1fintended", "t1\x1factual"):
                            if rng.random() < 0.8:
                                rows.append([s, cohort, entry, b, g, cat, 1, 1.0])
    rng.shuffle(rows)
    rows += rows[: rng.randint(0, 5)]  # some rows twice
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    assert live_equations(table) == ref.equations(table)
    shared = [
        (("t1", "a"), ("t2", "a")),
        (("t1", TOTAL), ("t2", TOTAL)),
        (("t2", "b"), ("t1", "c")),
    ]
    got = disclosure._link_equations(table, shared)
    assert got == ref._link_equations(table, shared)
    assert len(got) > 10


@pytest.mark.parametrize("suppress_zeros", [False, True])
def test_count_checks_identical(suppress_zeros: bool) -> None:
    """Every kind of count / percentage breach, repeated keys and odd cells: the same list."""
    nan = float("nan")
    rows = [
        ["S", "Y11", "e", "all", "All pupils", TOTAL, "c", "c"],  # hidden base
        ["S", "Y11", "e", "all", "All pupils", "a", 12, 40.0],  # percent of a hidden base
        ["S", "Y11", "e", "all", "All pupils", "b", "x", "c"],  # neither number nor symbol
        ["S", "Y11", "e", "all", "All pupils", "d", "c", 3.0],  # percent of a hidden count
        ["S", "Y11", "e", "all", "All pupils", "z", 0, 0.0],
        ["S", "Y11", "e", "send", "SEND", TOTAL, 4, 100.0],  # small group
        ["S", "Y11", "e", "send", "SEND", "a", 2, nan],  # small count, percent missing
        ["S", "Y11", "e", "send", "SEND", "a", 7, 50.0],  # the same cell again: last wins
        ["S", "Y11", "e", "send", "Not SEND", TOTAL, 30, 100.0],
        ["S", "Y11", "e", "send", "Not SEND", "a", 30, nan],
        ["S", "Y11", "e", "send", "Not SEND", "b", 6, "c"],
        [TRUST_SCHOOL, 2026, "e", "all", "All pupils", TOTAL, 5.0, 100.0],
    ]
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["count"] = table["count"].astype(object)
    table["percent"] = table["percent"].astype(object)
    policy = POLICY.model_copy(update={"suppress_zeros": suppress_zeros})
    ref_policy = REF_POLICY.model_copy(update={"suppress_zeros": suppress_zeros})
    got = [astuple(b) for b in disclosure._check_counts("t", table, policy)]
    want = [astuple(b) for b in ref._check_counts("t", table, ref_policy)]
    assert got == want
    assert {b[0] for b in want} == {"small_count", "small_group", "percent"}
    assert disclosure._check_counts("t", table.drop(columns="percent"), policy) == [
        disclosure.Breach(*b)
        for b in [
            astuple(x) for x in ref._check_counts("t", table.drop(columns="percent"), ref_policy)
        ]
    ]


def test_remembered_pinned_columns_are_the_same_answers() -> None:
    """The memo gives what the elimination gives, keyed by the whole matrix, never shared lists."""
    rng = np.random.default_rng(3)
    disclosure._PINNED_MEMO.clear()
    mats = [rng.integers(-1, 2, size=(rng.integers(1, 7), rng.integers(1, 7))) for _ in range(300)]
    mats = [m.astype(float) for m in mats]
    for _ in range(2):  # the second time from the memo
        for m in mats:
            got = disclosure._pinned_remembered(m)
            assert got == disclosure._pinned_columns(m)
            got.append(-1)  # the caller's list is its own
    assert 0 < len(disclosure._PINNED_MEMO) <= disclosure._PINNED_MEMO_SIZE
    a = np.zeros((2, 2))
    b = np.zeros((2, 3))
    assert disclosure._pinned_remembered(a) == [] and disclosure._pinned_remembered(b) == []
    assert disclosure._pinned_remembered(np.eye(2)) == [0, 1]
