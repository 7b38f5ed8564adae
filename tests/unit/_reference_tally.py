"""Frozen copy of `gsync.summary._tally` (and `_combos`, `_unique_inverse`) before its key
columns were repeated from their few texts at once (session 11): the reference
tests/unit/test_summary_tally.py compares the fast construction with. Do not edit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from gsync.disclosure import TABLE_COLUMNS, TOTAL


def _unique_inverse(values: np.ndarray, bound: int) -> tuple[np.ndarray, np.ndarray]:
    if (
        bound <= 4 * len(values) + 4096
        and len(values)
        and int(values.min()) >= 0
        and int(values.max()) < bound
    ):
        present = np.flatnonzero(np.bincount(values, minlength=bound))
        rank = np.zeros(bound, dtype=np.intp)
        rank[present] = np.arange(len(present), dtype=np.intp)
        return present.astype(values.dtype, copy=False), rank[values]
    return np.unique(values, return_inverse=True)


def _combos(
    groups: Sequence[tuple[str, str, np.ndarray | None]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each pupil's combination of group memberships (an index), and which groups each
    combination belongs to (a 0/1 matrix, combinations x groups; a group without a mask is
    everyone)."""
    code = np.zeros(n, dtype=np.int64)
    for g, (_b, _g, mask) in enumerate(groups):
        if mask is not None:
            code |= mask.astype(np.int64) << g
    present, combo = _unique_inverse(code, 1 << len(groups))
    member = np.array(
        [
            [
                1 if mask is None or (int(c) >> g) & 1 else 0
                for g, (_b, _g, mask) in enumerate(groups)
            ]
            for c in present.tolist()
        ],
        dtype=np.int64,
    ).reshape(len(present), len(groups))
    return combo.reshape(-1), member


def _tally(
    blocks: Sequence[tuple[str, str]],
    block: np.ndarray,
    row: np.ndarray,
    groups: Sequence[tuple[str, str, np.ndarray | None]],
    rows: list[str],
    entry: str,
    combos: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Counts per (school, cohort) block x group x row label, with each group's Total.

    `block` / `row`: each pupil's index in `blocks` / `rows` (`len(rows)`: a label outside `rows`,
    counted in its group's Total only); `combos`: `_combos(groups, ...)` if already known. Rows:
    blocks in sorted (school, cohort) order, then All pupils, then each breakdown's yes / no
    group, then `rows` and Total, as the long table has always listed them.
    """
    n_pupils = len(block)
    if n_pupils == 0:
        return pd.DataFrame.from_records([], columns=TABLE_COLUMNS).astype({"count": "int64"})
    labels = [*rows, TOTAL]
    width = len(labels)
    n_blocks, n_groups = len(blocks), len(groups)
    combo, member = combos if combos is not None else _combos(groups, n_pupils)
    # One bincount per (block, row, combination of groups), then each group's counts are the
    # sums over the combinations it includes; a Total is every pupil of its block and group.
    per = np.bincount(
        (block * width + row) * len(member) + combo, minlength=n_blocks * width * len(member)
    ).reshape(n_blocks * width, len(member))
    counts = np.ascontiguousarray(
        (per @ member).reshape(n_blocks, width, n_groups).transpose(0, 2, 1)
    )
    counts[:, :, len(rows)] = counts.sum(axis=2)
    totals = np.repeat(counts[:, :, len(rows)], width, axis=1).reshape(-1)
    flat = counts.reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(totals > 0, 100.0 * flat / totals, np.nan)
    n = n_blocks * n_groups * width
    return pd.DataFrame(
        {
            "school": [str(b[0]) for b in blocks for _ in range(n_groups * width)],
            "cohort": [str(b[1]) for b in blocks for _ in range(n_groups * width)],
            "entry": [entry] * n,
            "breakdown": [g[0] for g in groups for _ in range(width)] * n_blocks,
            "group": [g[1] for g in groups for _ in range(width)] * n_blocks,
            "category": labels * (n_blocks * n_groups),
            "count": flat,
            "percent": percent,
        },
        columns=TABLE_COLUMNS,
    )
