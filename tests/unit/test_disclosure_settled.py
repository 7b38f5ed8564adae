"""check_disclosure after apply_suppression: the recoverability verdict the suppression settled
(no hidden cell determined, over the very same equations and hidden cells) is taken without
solving again, and anything else (a cell hidden or shown since, other links, another policy's
tables, extra equations) is solved afresh. The breaches are the frozen checker's throughout."""

from __future__ import annotations

import random
from dataclasses import astuple
from typing import Any

import pandas as pd
import pytest

from gsync import disclosure
from gsync.disclosure import TOTAL
from tests.unit import _reference_disclosure as ref
from tests.unit.test_disclosure_fast import random_table

POLICY = disclosure.load_policy()
REF_POLICY = ref.load_policy()
PUPILS = pd.DataFrame({"upn": ["A123456789012"], "legal_surname": ["Zed"]})
LINKS = [(("t1", TOTAL), ("t2", TOTAL))]


def _check(module: Any, tables: dict[str, pd.DataFrame], links: Any = ()) -> list[tuple]:
    policy = POLICY if module is disclosure else REF_POLICY
    found = module.check_disclosure(tables, policy, PUPILS, links=links)
    return [astuple(b) for b in found]


def _systems(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts each `_System` built from now on."""
    built: list[int] = []
    real = disclosure._System

    def counted(*args: Any) -> disclosure._System:
        built.append(1)
        return real(*args)

    monkeypatch.setattr(disclosure, "_System", counted)
    return built


def _hidden_rows(table: pd.DataFrame) -> list[int]:
    return [i for i, v in enumerate(table["count"].tolist()) if isinstance(v, str)]


def _pair(seed: int) -> dict[str, pd.DataFrame]:
    rng = random.Random(seed)
    one = random_table(rng)
    two = one.copy()
    two["count"] = two["count"] * 2
    return {"t1": one, "t2": two}


@pytest.mark.parametrize("seed", range(10))
def test_check_after_suppression_takes_the_settled_verdict(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = _pair(2000 + seed)
    done = disclosure.suppress_tables(tables, POLICY, LINKS)
    built = _systems(monkeypatch)
    got = _check(disclosure, done, LINKS)
    assert built == []  # the suppression's own verdict
    assert got == _check(ref, done, LINKS)
    disclosure._LAST.clear()
    assert _check(disclosure, done, LINKS) == got and built == [1]


@pytest.mark.parametrize("seed", range(16))
def test_check_of_changed_tables_solves_again(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hidden cell shown again (often recoverable), a published one hidden, other links or
    none: each checked afresh, with the frozen checker's breaches."""
    rng = random.Random(3000 + seed)
    tables = _pair(3000 + seed)
    done = disclosure.suppress_tables(tables, POLICY, LINKS)
    # Rows whose key no other row holds (a cell is hidden when any of its rows is).
    once = ~done["t1"].duplicated(disclosure.KEY_COLUMNS, keep=False).to_numpy()
    hidden = _hidden_rows(done["t1"])
    rows = [r for r in hidden if once[r]]
    assert rows, "the seed's tables have a suppressed row no other row shares"
    shown = {k: t.copy() for k, t in done.items()}
    i = rng.choice(rows)
    shown["t1"].loc[i, "count"] = int(tables["t1"]["count"].iloc[i])
    shown["t1"].loc[i, "percent"] = 50.0
    hid = {k: t.copy() for k, t in done.items()}
    j = rng.choice([r for r in range(len(hid["t1"])) if once[r] and r not in hidden])
    hid["t1"].loc[j, "count"] = POLICY.symbol
    hid["t1"].loc[j, "percent"] = POLICY.symbol
    built = _systems(monkeypatch)
    for case, links in ((shown, LINKS), (hid, LINKS), (done, ()), (done, LINKS)):
        disclosure.suppress_tables(tables, POLICY, LINKS)  # settled: the unchanged tables
        before = len(built)
        assert _check(disclosure, case, links) == _check(ref, case, links)
        assert len(built) == before + (0 if case is done and links else 1)


def test_suppression_with_extra_equations_settles_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Extra equations (the round tables' Totals) are not the checker's: it solves again."""
    tables = _pair(4000)
    joint = disclosure._joint(tables)
    extra = disclosure._link_equations(joint, LINKS)
    disclosure._LAST.clear()
    out = disclosure.apply_suppression(joint, POLICY, _extra=extra)
    done = disclosure.split_joint(out, list(tables))
    built = _systems(monkeypatch)
    assert _check(disclosure, done) == _check(ref, done)  # the links not given: extra only
    assert built == [1]
