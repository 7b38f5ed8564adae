"""The merge's memo: what one night's merge left of each school, so the next merges only what changed.

Issue 7: on a steady night the merge re-matched every logged response and re-checked every
pupil's groups (81k and 163k of them at 100,000 pupil rows) only to find nothing changed. The
merge is a fixed point of its own output: merged again with the same responses, a school's rows
come out as they went in, and the same conflicts and exceptions recur. So each night's merge
records, per school, in the hidden state tab:

- a fingerprint of the cells the merge reads and writes in the school's rows as the merge left
  them (Destinations, Responses and Exceptions rows whose `school` is the school, with their
  positions; the Sustained tab whole), together with the run's context (the rules and term dates
  that decide entries, the tabs' columns, this memo's version);
- the pupils' groups it found in conflict (they are counted again every night).

The next night, a school whose rows still give the same fingerprint holds exactly what the merge
left: nothing was edited, appended, sorted or deleted since (by staff, the roster import, the
three-attempts rule, LA data...). Its merge then works only on the new and edited responses and
the pupils they touch; every other logged response is counted as the full merge would count it
(unchanged, and unmatched, ambiguous or invalid as logged), and the recorded conflicts of
untouched pupils are counted again. Any difference in the fingerprint, or anything the memo
cannot vouch for (a response id or pupil key held twice, a cell holding the digest's separator),
means the full merge for that school. `tests/unit/test_merge_memo.py` proves the two equal
on random nights.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: State-tab key of a school's memo: the prefix then the school's name.
STATE_PREFIX = "merge_memo:"
#: Bumped whenever what the memo vouches for changes: every school then merges in full once.
VERSION = "1"
#: A memo longer than this is not kept (a Sheets cell holds 50,000 characters).
LIMIT = 40_000
_SEP = "\x1f"
_SEP_BYTES = _SEP.encode()
_SEP_BYTE = ord(_SEP)

Conflict = tuple[str, str, str]  # (upn, leaving_year, group) of a group left in conflict


@dataclass(frozen=True)
class SchoolMemo:
    """One school's memo: the fingerprint of its rows as the merge left them, and its conflicts."""

    fingerprint: str
    conflicts: frozenset[Conflict]

    def dumps(self) -> str:
        """The state-tab text ("" when too long to keep)."""
        text = json.dumps(
            {"v": VERSION, "fp": self.fingerprint, "conflicts": sorted(self.conflicts)},
            separators=(",", ":"),
        )
        return text if len(text) <= LIMIT else ""


def loads(text: str) -> SchoolMemo | None:
    """A memo from its state-tab text; None for anything else (blank, another version, typed)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        return None
    fingerprint, conflicts = data.get("fp"), data.get("conflicts")
    if not isinstance(fingerprint, str) or not isinstance(conflicts, list):
        return None
    keys: set[Conflict] = set()
    for item in conflicts:
        if not (
            isinstance(item, list) and len(item) == 3 and all(isinstance(x, str) for x in item)
        ):
            return None
        keys.add((item[0], item[1], item[2]))
    return SchoolMemo(fingerprint, frozenset(keys))


def from_state(state: Mapping[str, str]) -> dict[str, str]:
    """School -> memo text, from the state tab's key/value rows."""
    return {k[len(STATE_PREFIX) :]: v for k, v in state.items() if k.startswith(STATE_PREFIX)}


def to_state(memos: Mapping[str, str]) -> dict[str, str]:
    """The state-tab rows of each school's memo text."""
    return {STATE_PREFIX + school: text for school, text in memos.items()}


class Cells(Protocol):
    """What the digests read of a tab: its cells as text, column by column."""

    def column(self, key: str) -> list[str]: ...


@runtime_checkable
class ArrayCells(Cells, Protocol):
    """Cells that also give a column as a one-dimensional object array of the same cells
    (None for one they give only as a list)."""

    def array(self, key: str) -> np.ndarray | None: ...


def context(key: str, columns: Mapping[str, Sequence[str]]) -> bytes:
    """The run's context: the caller's key (rules, term dates) and each tab's columns in order."""
    text = json.dumps([VERSION, key, {k: list(v) for k, v in sorted(columns.items())}])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class Digests:
    """Per school, a streaming digest of each of a tab's columns over the school's rows in order.

    The text of a column's cells joined by a separator is hashed, so rows appended after the
    digest was taken can be fed to it (`extend`): the result is the digest of all the rows.
    Columns whose cells were rewritten are digested again (`rehash`). A cell holding the
    separator would make two columns hash alike: the digests are then marked unusable (`ok`
    False) rather than trusted.
    """

    def __init__(self) -> None:
        self.columns: dict[tuple[str, str], Any] = {}  # (school, column) -> blake2b object
        self.counts: dict[str, int] = {}  # school -> rows fed
        self.positions: dict[str, Any] = {}  # school -> blake2b of the rows' positions
        self.ok = True

    def feed(
        self,
        cells: Cells,
        keys: Iterable[str],
        rows: Mapping[str, Sequence[int]],
    ) -> None:
        """Digest the rows at `rows[school]` of every column `keys` (fresh digests).

        Given cells that also hold their columns as arrays (`ArrayCells`), a school's rows that
        run on are read from the array's slice (not the whole column made a list, then sliced)."""
        pickers: list[tuple[str, Callable[[list[str]], Sequence[str]], slice | None]] = []
        for school, positions in rows.items():
            order = np.asarray(positions, dtype=np.int64)
            self.counts[school] = len(order)
            self.positions[school] = hashlib.blake2b(order.tobytes(), digest_size=16)
            pickers.append((school, _picker(order), _run(order)))
        arrays = cells.array if isinstance(cells, ArrayCells) else None
        for key in keys:
            array = arrays(key) if arrays is not None else None
            column: list[str] | None = None
            for school, pick, run in pickers:
                if array is not None and run is not None:
                    texts: Sequence[str] = array[run].tolist()
                else:
                    if column is None:
                        column = cells.column(key)
                    texts = pick(column)
                self.columns[school, key] = self._hash(texts)

    def rehash(self, school: str, key: str, texts: Sequence[str]) -> None:
        """Digest one column of one school's rows again from its cells (the same rows, cells
        rewritten; `texts`: the cells in the rows' order)."""
        self.columns[school, key] = self._hash(texts)

    def _hash(self, texts: Sequence[str], into: Any = None, *, more: bool = False) -> Any:
        data = _SEP.join(texts).encode("utf-8", "surrogatepass")
        # The separators counted in the UTF-8 bytes (0x1F encodes U+001F alone), in numpy.
        if (
            texts
            and np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == _SEP_BYTE) != len(texts) - 1
        ):
            self.ok = False
        if into is None:
            into = hashlib.blake2b(digest_size=16)
        if more and texts:
            into.update(_SEP_BYTES)
        into.update(data)
        return into

    def extend(
        self, school: str, keys: Sequence[str], positions: Sequence[int],
        appended: Mapping[str, Sequence[str]],
    ) -> None:  # fmt: skip
        """Feed rows appended after the school's rows (`appended`: column -> their cells)."""
        if not positions:
            return
        had = self.counts.get(school, 0)
        self.counts[school] = had + len(positions)
        self.positions[school].update(np.asarray(positions, dtype=np.int64).tobytes())
        for key in keys:
            self._hash(list(appended[key]), self.columns[school, key], more=had > 0)

    def summary(self, school: str, keys: Sequence[str]) -> bytes:
        """The school's digest of the tab: its row count, positions and columns."""
        h = hashlib.blake2b(digest_size=16)
        h.update(str(self.counts.get(school, 0)).encode())
        h.update(self.positions[school].digest())
        for key in keys:
            h.update(self.columns[school, key].digest())
        return h.digest()


def _run(order: np.ndarray) -> slice | None:
    """The slice of positions `order` when they run on (one position included), else None
    (and for none)."""
    if len(order) and bool((np.diff(order) == 1).all()):
        return slice(int(order[0]), int(order[-1]) + 1)
    return None


def _picker(order: np.ndarray) -> Callable[[list[str]], Sequence[str]]:
    """A function giving a column's cells at `order`, in order (a slice when they run on)."""
    run = _run(order)
    if run is not None:
        return lambda column: column[run]
    if not len(order):
        return lambda column: []
    return itemgetter(*order.tolist())  # (two positions or more: one runs on)


def fingerprint(ctx: bytes, parts: Iterable[bytes]) -> str:
    """A school's fingerprint: the run's context and each tab's summary."""
    h = hashlib.blake2b(ctx, digest_size=16)
    for part in parts:
        h.update(part)
    return h.hexdigest()
