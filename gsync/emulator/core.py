"""The contract every emulator handler codes against: errors, the request, the store.

A handler is a plain function `(Request) -> JSON value`, registered under the discovery
method id (e.g. ``"forms.forms.create"``, ``"sheets.spreadsheets.batchUpdate"``,
``"drive.files.list"``). The framework has already checked the route, the query parameters
and the request body against the discovery document before it calls the handler; the handler
checks semantics and raises ``ApiError`` for what Google would refuse.

Atomicity: a handler reads resources through ``req.tx.get`` (which returns a private deep
copy), changes its copies, and ``put``s them back only when the whole request is valid. The
transaction commits only if the handler returns; any exception discards every ``put``.

The framework (server.py) also applies the standard ``fields`` query parameter to every JSON
answer (fieldmask.py), so a handler may return the whole resource. A handler returning None
is answered 204 with no body; returning ``bytes`` sends them as they are (``alt=media``).
Request bodies arrive with field names in camelCase (snake_case aliases are normalised first),
JSON nulls removed; query parameter names are camelCase too. A media upload (Drive
``/upload/...``, uploadType media or multipart) arrives as ``req.body`` = the JSON metadata
part (``{}`` if none) and ``req.media`` / ``req.media_type`` = the content part.

Test-only routes (under ``/_emulator/``) register with ``@control_route(http_method, regex)``;
they get a ``Request`` whose ``api`` is ``"_emulator"``, whose ``path_params`` are the regex's
named groups and whose body is the parsed JSON (unvalidated); they run in one store
transaction like API handlers, and what they return is answered as JSON (200).
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

STATUS_FOR_CODE = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answered in Google's shape: {"error": {"code", "message", "status"}}."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_FOR_CODE.get(code, "UNKNOWN")
        self.details = details or []

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            err["details"] = self.details
        return {"error": err}


def invalid(message: str) -> ApiError:
    """400 INVALID_ARGUMENT, the commonest refusal."""
    return ApiError(400, message, "INVALID_ARGUMENT")


def not_found(message: str) -> ApiError:
    return ApiError(404, message, "NOT_FOUND")


class Tx(Protocol):
    """One transaction over the emulator's state: resources by (kind, key), JSON values.

    Both stores also offer ``peek(kind, key)``: a read without the private copy, for large
    read-mostly values (sheet cells); the caller must never mutate what it returns.
    """

    def get(self, kind: str, key: str) -> Any | None: ...
    def put(self, kind: str, key: str, value: Any) -> None: ...
    def delete(self, kind: str, key: str) -> None: ...
    def keys(self, kind: str) -> list[str]: ...


class Store(Protocol):
    """Where state lives: memory for tests, SQLite on disk for the embedded local workspace."""

    def transaction(self) -> Any:  # a context manager yielding a Tx
        ...


class _MemoryTx:
    def __init__(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self._puts: dict[tuple[str, str], Any] = {}
        self._deletes: set[tuple[str, str]] = set()

    def get(self, kind: str, key: str) -> Any | None:
        if (kind, key) in self._deletes:
            return None
        if (kind, key) in self._puts:
            return copy.deepcopy(self._puts[(kind, key)])
        value = self._data.get(kind, {}).get(key)
        return copy.deepcopy(value) if value is not None else None

    def peek(self, kind: str, key: str) -> Any | None:
        """Read without copying (optional on a Tx): the caller must not mutate the result."""
        if (kind, key) in self._deletes:
            return None
        if (kind, key) in self._puts:
            return self._puts[(kind, key)]
        return self._data.get(kind, {}).get(key)

    def put(self, kind: str, key: str, value: Any) -> None:
        self._deletes.discard((kind, key))
        self._puts[(kind, key)] = copy.deepcopy(value)

    def delete(self, kind: str, key: str) -> None:
        self._puts.pop((kind, key), None)
        self._deletes.add((kind, key))

    def keys(self, kind: str) -> list[str]:
        found = set(self._data.get(kind, {})) | {k for (c, k) in self._puts if c == kind}
        return sorted(found - {k for (c, k) in self._deletes if c == kind})

    def commit(self) -> None:
        for (kind, key), value in self._puts.items():
            self._data.setdefault(kind, {})[key] = value
        for kind, key in self._deletes:
            self._data.get(kind, {}).pop(key, None)


class MemoryStore:
    """State in memory; one transaction at a time."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTx]:
        with self._lock:
            tx = _MemoryTx(self._data)
            yield tx
            tx.commit()

    def clear(self) -> None:
        """Forget every resource (POST /_emulator/reset)."""
        with self._lock:
            self._data.clear()


@dataclass
class Request:
    """A validated API call, as a handler sees it."""

    api: str  # "sheets" | "forms" | "drive"
    method_id: str  # discovery id, e.g. "forms.forms.responses.list"
    path_params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    tx: Tx
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    base_url: str = "http://127.0.0.1"
    media: bytes | None = None
    media_type: str | None = None

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name, []))


Handler = Callable[[Request], Any]
HANDLERS: dict[str, Handler] = {}


def handler(method_id: str) -> Callable[[Handler], Handler]:
    """Register a handler for a discovery method id."""

    def register(fn: Handler) -> Handler:
        HANDLERS[method_id] = fn
        return fn

    return register


@dataclass(frozen=True)
class ControlRoute:
    """A test-only route under /_emulator/ (see control_route)."""

    http_method: str
    pattern: re.Pattern[str]
    fn: Handler


CONTROL_ROUTES: list[ControlRoute] = []


def control_route(http_method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a test-only route, e.g. ``@control_route("POST", r"/_emulator/forms/(?P<formId>[^/]+)/responses")``.

    The pattern must start with ``/_emulator/`` and is matched against the whole URL path.
    """
    if not pattern.startswith("/_emulator/"):
        raise ValueError("control routes live under /_emulator/")

    def register(fn: Handler) -> Handler:
        compiled = re.compile(pattern)
        CONTROL_ROUTES[:] = [
            r
            for r in CONTROL_ROUTES
            if not (r.http_method == http_method.upper() and r.pattern.pattern == pattern)
        ]
        CONTROL_ROUTES.append(ControlRoute(http_method.upper(), compiled, fn))
        return fn

    return register


def new_id(nbytes: int = 16) -> str:
    """An opaque id in the style Google uses (URL-safe)."""
    return secrets.token_urlsafe(nbytes).replace("-", "x").replace("_", "y")


def rfc3339(moment: datetime) -> str:
    """RFC3339 UTC with microseconds and a Z, as Google writes timestamps."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


MIME_SPREADSHEET = "application/vnd.google-apps.spreadsheet"
MIME_FORM = "application/vnd.google-apps.form"
MIME_FOLDER = "application/vnd.google-apps.folder"
EMULATOR_USER = "gsync-emulator@localhost.invalid"


def register_file(
    tx: Tx,
    file_id: str,
    name: str,
    mime_type: str,
    now: datetime,
    parents: list[str] | None = None,
) -> dict[str, Any]:
    """Record a Drive file (kind "files") for a spreadsheet, form or folder made by any API.

    Shape (a subset of Drive v3's File): id, name, mimeType, parents, createdTime, modifiedTime,
    trashed, owners, permissions (each: id, type, role, emailAddress / domain).
    """
    stamp = rfc3339(now)
    record: dict[str, Any] = {
        "kind": "drive#file",
        "id": file_id,
        "name": name,
        "mimeType": mime_type,
        "parents": list(parents or []),
        "createdTime": stamp,
        "modifiedTime": stamp,
        "trashed": False,
        "owners": [{"kind": "drive#user", "emailAddress": EMULATOR_USER, "me": True}],
        "permissions": [
            {
                "kind": "drive#permission",
                "id": "owner",
                "type": "user",
                "role": "owner",
                "emailAddress": EMULATOR_USER,
            }
        ],
    }
    tx.put("files", file_id, record)
    return record


def touch_file(tx: Tx, file_id: str, now: datetime) -> None:
    """Update a Drive file's modifiedTime after its content changed (no-op if unknown)."""
    record = tx.get("files", file_id)
    if record is not None:
        record["modifiedTime"] = rfc3339(now)
        tx.put("files", file_id, record)
