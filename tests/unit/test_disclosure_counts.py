"""`_check_counts` judges whole columns first (`_counts_clean`) and goes row by row only when a
row may breach: the same breaches as the frozen code, on clean tables and on tables a single
cell spoils in every way the rules name (and on tables the column check must leave alone)."""

from __future__ import annotations

import random
from dataclasses import astuple
from typing import Any

import numpy as np
import pandas as pd
import pytest

from gsync import disclosure
from gsync.disclosure import TOTAL
from tests.unit import _reference_disclosure as ref
from tests.unit.test_disclosure_fast import random_table

POLICY = disclosure.load_policy()
REF_POLICY = ref.load_policy()


def _same(table: pd.DataFrame, zeros: bool = False) -> list[tuple[Any, ...]]:
    policy = POLICY.model_copy(update={"suppress_zeros": zeros})
    ref_policy = REF_POLICY.model_copy(update={"suppress_zeros": zeros})
    got = [astuple(b) for b in disclosure._check_counts("t", table, policy)]
    want = [astuple(b) for b in ref._check_counts("t", table, ref_policy)]
    assert got == want
    return got


def _spoil(rng: random.Random, table: pd.DataFrame) -> pd.DataFrame:
    """`table` with one cell changed in one of the ways the checker looks for."""
    t = table.copy()
    t["count"] = t["count"].astype(object)
    t["percent"] = t["percent"].astype(object)
    counts, cats = t["count"].tolist(), t["category"].tolist()
    hidden = [i for i, n in enumerate(counts) if isinstance(n, str)]
    shown = [i for i, n in enumerate(counts) if not isinstance(n, str)]
    totals = [i for i in shown if cats[i] == TOTAL]
    parts = [i for i in shown if cats[i] != TOTAL]
    way = rng.randrange(13)
    i = rng.randrange(len(t))
    if way == 0 and shown:
        t.at[rng.choice(shown), "count"] = rng.randint(1, POLICY.threshold - 1)  # small count
    elif way == 1 and hidden:
        t.at[rng.choice(hidden), "count"] = "x"  # neither number nor symbol
    elif way == 2 and hidden:
        t.at[rng.choice(hidden), "percent"] = 12.0  # percentage of a hidden count
    elif way == 3 and shown:
        t.at[rng.choice(shown), "percent"] = float("nan")  # percentage missing
    elif way == 4 and totals:
        j = rng.choice(totals)
        t.at[j, "count"] = POLICY.symbol  # a hidden base, its parts' percentages published
        t.at[j, "percent"] = POLICY.symbol
    elif way == 5 and totals:
        t.at[rng.choice(totals), "count"] = rng.randint(0, POLICY.min_base - 1)  # small group
    elif way == 6 and parts:
        t.at[rng.choice(parts), "count"] = 0  # a zero (a breach only with suppress_zeros)
    elif way == 7:
        t = pd.concat([t, t.iloc[[i]]], ignore_index=True)  # a cell in two rows
    elif way == 8:
        t.at[i, "count"] = np.int64(7) if rng.random() < 0.5 else True  # not a plain int
    elif way == 9:
        t["category"] = t["category"].astype(object)
        t.at[i, "category"] = 7  # a key that is no text
    elif way == 10 and shown:
        t.at[rng.choice(shown), "count"] = 2**70  # past int64
    elif way == 12:
        t["group"] = t["group"].astype("str")
        t.loc[i, "group"] = None  # a missing key in a text column (its text is "nan")
        if rng.random() < 0.5:
            t.loc[(i + 1) % len(t), "group"] = "nan"
    elif way == 11 and shown:
        t.at[rng.choice(shown), "percent"] = 40  # an int percentage
    return t


@pytest.mark.parametrize("seed", range(40))
def test_count_checks_identical_on_suppressed_and_spoiled_tables(seed: int) -> None:
    rng = random.Random(7000 + seed)
    table = disclosure.apply_suppression(random_table(rng), POLICY)
    assert _same(table) == []
    for _ in range(12):
        spoiled = _spoil(rng, table)
        _same(spoiled)
        _same(spoiled, zeros=True)


def test_count_checks_of_every_spoiling_find_breaches() -> None:
    """The spoiled tables above do breach (so the column check has said False for them)."""
    rng = random.Random(11)
    table = disclosure.apply_suppression(random_table(rng), POLICY)
    kinds: set[str] = set()
    for _ in range(200):
        kinds |= {b[0] for b in _same(_spoil(rng, table), zeros=True)}
    assert kinds == {"small_count", "small_group", "percent"}


def test_count_checks_of_empty_and_all_hidden_tables() -> None:
    empty = disclosure.apply_suppression(random_table(random.Random(1)), POLICY).iloc[:0]
    assert _same(empty) == []
    rows = [["S", "Y11", "e", "all", "All pupils", c, "c", "c"] for c in ("a", TOTAL)]
    assert _same(pd.DataFrame(rows, columns=disclosure.TABLE_COLUMNS)) == []


def _suppressed(rng: random.Random) -> pd.DataFrame:
    """A random table suppressed (a few random tables cannot be: another is drawn)."""
    while True:
        try:
            return disclosure.apply_suppression(random_table(rng), POLICY)
        except AssertionError:
            continue


def _check(module: Any, tables: dict[str, pd.DataFrame], zeros: bool) -> list[tuple[Any, ...]]:
    policy = (POLICY if module is disclosure else REF_POLICY).model_copy(
        update={"suppress_zeros": zeros}
    )
    found = module.check_disclosure(tables, policy, pd.DataFrame({"upn": ["X"]}))
    return [astuple(b) for b in found]


@pytest.mark.parametrize("seed", range(25))
def test_checker_judges_every_table_at_once_as_each_alone(seed: int) -> None:
    """The checker judges the count checks of all tables together: the same breaches, table by
    table, when one table (of several, under names that may hold the separator) is spoiled."""
    rng = random.Random(8000 + seed)
    names = ["a", "b", "c\x1fd", "c"] if seed % 5 == 0 else ["a", "b", "c"]
    tables = {n: _suppressed(rng) for n in names}
    if seed % 5 == 0:  # "c\x1fd" + "x" and "c" + "d\x1fx" would be one entry
        tables["c"] = tables["c"].assign(entry="d\x1f" + tables["c"]["entry"].astype(str))
    for zeros in (False, True):
        assert _check(disclosure, tables, zeros) == _check(ref, tables, zeros)
    for _ in range(6):
        spoiled = dict(tables)
        name = rng.choice(names)
        spoiled[name] = _spoil(rng, tables[name])
        for zeros in (False, True):
            assert _check(disclosure, spoiled, zeros) == _check(ref, spoiled, zeros)
