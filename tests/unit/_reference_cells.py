"""Frozen copy of `gsync.disclosure._Cells.in_set_order` before the set's order was read once as
cell numbers (session 13): a walk of the whole set of keys per call. The reference
tests/unit/test_disclosure_set_order.py compares the fast method with. Do not edit."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from gsync.disclosure import _rank_of


def in_set_order(cells: Any, column: int, texts: Collection[str]) -> np.ndarray:
    every = {k for k in cells.first_seen()}
    name = ("school", "cohort", "entry", "group", "category")[column]
    wanted = [r for r in (_rank_of(cells.ranks[name][1], t) for t in texts) if r >= 0]
    picked = np.flatnonzero(np.isin(cells.of[name], wanted)).tolist()
    mine = {cells.keys[i]: i for i in picked}
    return np.array([mine[k] for k in every if k[column] in texts], dtype=np.int64)
