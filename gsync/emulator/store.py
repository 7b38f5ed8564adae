"""Emulator state on disk: one SQLite table of (kind, key, JSON value).

Each transaction runs between ``BEGIN IMMEDIATE`` and ``COMMIT``, so two processes sharing a
state directory serialise their writes, and a crash mid-request leaves the previous state intact
(WAL journal). Decoded values are cached per row, keyed by a version number that every write
sets to a fresh random number (so a row deleted and re-created by another process
never looks unchanged), so repeated reads of a large grid skip re-parsing JSON they already parsed.
"""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gsync.emulator.core import MemoryStore, Store

DB_NAME = "emulator.sqlite3"
CACHE_ROWS = 256  # decoded rows kept (a row of cells is a block of up to 1,000 sheet rows)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, key)
)
"""


class _SqliteTx:
    """A Tx over an open SQLite transaction; writes go straight to the (uncommitted) database."""

    def __init__(self, store: SqliteStore, conn: sqlite3.Connection) -> None:
        self._store = store
        self._conn = conn
        self._written: set[tuple[str, str]] = set()

    def get(self, kind: str, key: str) -> Any | None:
        row = self._conn.execute(
            "SELECT version FROM resources WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        if row is None:
            return None
        version = int(row[0])
        cached = self._store._cache.get((kind, key))
        if cached is not None and cached[0] == version and (kind, key) not in self._written:
            return copy.deepcopy(cached[1]) if _is_container(cached[1]) else cached[1]
        text = self._conn.execute(
            "SELECT value FROM resources WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()[0]
        value = json.loads(text)
        if (kind, key) not in self._written:
            self._store._remember((kind, key), version, json.loads(text))
        return value

    def peek(self, kind: str, key: str) -> Any | None:
        """Read without copying, from the per-row cache when the row is unchanged.

        The caller must not mutate the result (it is shared with later transactions).
        """
        row = self._conn.execute(
            "SELECT version FROM resources WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        if row is None:
            return None
        version = int(row[0])
        if (kind, key) not in self._written:
            cached = self._store._cache.get((kind, key))
            if cached is not None and cached[0] == version:
                return cached[1]
        text = self._conn.execute(
            "SELECT value FROM resources WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()[0]
        value = json.loads(text)
        if (kind, key) not in self._written:
            self._store._remember((kind, key), version, value)
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        self._conn.execute(
            "INSERT INTO resources (kind, key, version, value) VALUES (?, ?, random(), ?) "
            "ON CONFLICT (kind, key) DO UPDATE SET version = random(), value = excluded.value",
            (kind, key, text),
        )
        self._written.add((kind, key))

    def delete(self, kind: str, key: str) -> None:
        self._conn.execute("DELETE FROM resources WHERE kind = ? AND key = ?", (kind, key))
        self._written.add((kind, key))

    def keys(self, kind: str) -> list[str]:
        rows = self._conn.execute(
            "SELECT key FROM resources WHERE kind = ? ORDER BY key", (kind,)
        ).fetchall()
        return [r[0] for r in rows]


def _is_container(value: Any) -> bool:
    return isinstance(value, dict | list)


class SqliteStore:
    """The emulator's state in ``<state_dir>/emulator.sqlite3`` (or any path given)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._cache: OrderedDict[tuple[str, str], tuple[int, Any]] = OrderedDict()
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves.
        self._conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._conn.execute(_SCHEMA)

    def _remember(self, item: tuple[str, str], version: int, value: Any) -> None:
        self._cache[item] = (version, value)
        self._cache.move_to_end(item)
        while len(self._cache) > CACHE_ROWS:
            self._cache.popitem(last=False)

    @contextmanager
    def transaction(self) -> Iterator[_SqliteTx]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            tx = _SqliteTx(self, self._conn)
            try:
                yield tx
            except BaseException:
                self._conn.execute("ROLLBACK")
                for item in tx._written:
                    self._cache.pop(item, None)
                raise
            self._conn.execute("COMMIT")
            for item in tx._written:
                self._cache.pop(item, None)

    def clear(self) -> None:
        """Forget every resource (POST /_emulator/reset)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.execute("DELETE FROM resources")
            self._conn.execute("COMMIT")
            self._cache.clear()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def open_store(state_dir: Path | None) -> Store:
    """A SQLite store under ``state_dir``, or a memory store when it is None."""
    if state_dir is None:
        return MemoryStore()
    return SqliteStore(Path(state_dir) / DB_NAME)
