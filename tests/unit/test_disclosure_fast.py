"""The fast paths of gsync.disclosure give exactly what the frozen code before the speed-up gave.

`_reference_disclosure` is the frozen copy. These cases aim at what the fast paths change: the
secondary suppression that visits only equations with one hidden cell and reuses the answers of
unchanged components, and the checker's substring look-ups (values at the start or end of a cell,
values inside other values, long cells, several columns holding the same value).
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd
import pytest

from gsync import disclosure
from gsync.disclosure import TABLE_COLUMNS, TOTAL, TRUST_SCHOOL, CellKey
from tests.unit import _reference_disclosure as ref

POLICY = disclosure.load_policy()
REF_POLICY = ref.load_policy()
Eqs = list[tuple[CellKey, list[CellKey]]]


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


@pytest.mark.parametrize("seed", range(300))
def test_secondary_and_determined_identical(seed: int) -> None:
    eqs, counts, hidden = _system(seed)
    assert disclosure._determined(eqs, hidden) == ref._determined(eqs, hidden)
    want = _outcome(ref._secondary, eqs, counts, set(hidden))
    got = _outcome(disclosure._secondary, eqs, counts, set(hidden))
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


@pytest.mark.parametrize("seed", range(12))
def test_apply_suppression_identical_on_random_trusts(seed: int) -> None:
    rng = random.Random(1000 + seed)
    rows: list[list[Any]] = []
    schools = [f"School {chr(65 + i)}" for i in range(rng.randint(1, 5))]
    for s in schools:
        for cohort in ("2025 Y11", "2026 Y11"):
            rows.extend(_block(rng, s, cohort, "intended"))
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if len(schools) > 1:
        trust = table.groupby(TABLE_COLUMNS[:6], sort=False, as_index=False)["count"].sum()
        trust["school"] = TRUST_SCHOOL
        trust["percent"] = 0.0
        table = pd.concat([table, trust[TABLE_COLUMNS]], ignore_index=True)
    got = disclosure.apply_suppression(table, POLICY)
    want = ref.apply_suppression(table, REF_POLICY)
    assert [str(t) for t in got.dtypes] == [str(t) for t in want.dtypes]
    for c in TABLE_COLUMNS:
        assert [(type(v), v) for v in got[c].tolist()] == [(type(v), v) for v in want[c].tolist()]
    assert (got["count"] == POLICY.symbol).any()
