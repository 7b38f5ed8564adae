"""The emulator's HTTP server: one loopback port for Sheets v4, Forms v1 and Drive v3.

Per request: match the route in the discovery documents → apply controls (latency, injected
faults, quotas) → validate query and body → run ``core.HANDLERS[method id]`` inside one store
transaction (an exception rolls it back) → answer JSON, filtered by the ``fields`` parameter.
Test controls live under ``/_emulator/`` (see ``Controls`` and ``testing.EmulatorClient``):

    GET    /_emulator/health   {"status": "ok", "handlers": [method ids]}
    POST   /_emulator/reset    clear all state and controls
    GET    /_emulator/log      {"requests": [{"api", "method", "http_method", "path", "status"}]}
    DELETE /_emulator/log
    GET    /_emulator/config   latency_ms, quotas, fault_rate, queued faults, clock
    POST   /_emulator/config   {"latency_ms", "quotas": {bucket: per minute} | "google_per_user",
                                "fault_rate", "seed"}
    POST   /_emulator/faults   {"match": method id | api | "*", "status": 500|503|429, "count"}
                               or {"match": ..., "reset": true} (connection reset, no answer)
    DELETE /_emulator/faults
    POST   /_emulator/clock    {"now": RFC 3339 with offset | null}
    + routes registered with ``core.control_route`` (e.g. Forms response submission).

A request that suffers an injected reset is logged with status 0. Faults and quotas are
checked before validation, so a faulted request never reaches a handler.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import random
import socket
import struct
import threading
import time
import traceback
from collections import deque
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gsync.emulator import auth as emulator_auth
from gsync.emulator import fieldmask
from gsync.emulator.core import (
    CONTROL_ROUTES,
    HANDLERS,
    ApiError,
    MemoryStore,
    Request,
    Store,
    invalid,
)
from gsync.emulator.discovery import Method, route_table, validate_body, validate_query

log = logging.getLogger("gsync.emulator")

HANDLER_MODULES = ("gsync.emulator.sheets", "gsync.emulator.forms", "gsync.emulator.drive")

QUOTA_BUCKETS = (
    "sheets_read",
    "sheets_write",
    "forms_read",
    "forms_responses",
    "forms_write",
    "drive",
)

# Per-user per-minute limits from Google's published quota pages (see DESIGN.md §3).
QUOTA_PRESETS: dict[str, dict[str, int]] = {
    "google_per_user": {
        "sheets_read": 60,
        "sheets_write": 60,
        "forms_read": 390,
        "forms_responses": 180,
        "forms_write": 150,
    },
}

# (service, metric name) for Google's quota message, by bucket.
_QUOTA_WORDS = {
    "sheets_read": ("sheets.googleapis.com", "Read requests"),
    "sheets_write": ("sheets.googleapis.com", "Write requests"),
    "forms_read": ("forms.googleapis.com", "Read requests"),
    "forms_responses": ("forms.googleapis.com", "Responses list requests"),
    "forms_write": ("forms.googleapis.com", "Write requests"),
    "drive": ("drive.googleapis.com", "Queries"),
}

_READ_SUFFIXES = ("ByDataFilter", ".search")

#: The largest request body Google's front end accepts. Google documents no hard limit for the
#: Sheets API (it recommends at most 2 MB), but bodies over 10 MiB are refused with this 400 (as
#: reported against Sheets batchUpdate in googleworkspace/dotnet-samples#23, SCRT-HQ/PSGSuite#62);
#: media uploads (Drive) are not bound by it here.
MAX_REQUEST_BYTES = 10_485_760


def quota_bucket(api: str, method_id: str, http_method: str) -> str:
    """Which per-minute quota a method draws on (a batch counts as one request, like Google)."""
    if api == "sheets":
        is_read = http_method == "GET" or method_id in (
            "sheets.spreadsheets.getByDataFilter",
            "sheets.spreadsheets.values.batchGetByDataFilter",
            "sheets.spreadsheets.developerMetadata.search",
        )
        return "sheets_read" if is_read else "sheets_write"
    if api == "forms":
        if method_id == "forms.forms.responses.list":
            return "forms_responses"
        return "forms_read" if http_method == "GET" else "forms_write"
    return "drive"


def fault_error(status: int) -> ApiError:
    """The body Google sends for a transient failure of this status."""
    if status == 503:
        return ApiError(503, "The service is currently unavailable.", "UNAVAILABLE")
    if status == 429:
        return ApiError(
            429, "Resource has been exhausted (e.g. check quota).", "RESOURCE_EXHAUSTED"
        )
    if status == 500:
        return ApiError(500, "Internal error encountered.", "INTERNAL")
    return ApiError(status, f"Injected fault ({status}).")


class Controls:
    """Test controls: latency, quotas, injected faults, the request log and the clock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.latency_ms = 0
        self.quotas: dict[str, int] = {}
        self.fault_rate = 0.0
        self.faults: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []
        self.now: datetime | None = None
        self.max_request_bytes = MAX_REQUEST_BYTES
        self._rng = random.Random(0)
        self._hits: dict[str, deque[float]] = {}

    # -- configuration
    def reset(self) -> None:
        """Back to defaults: no latency, quotas, faults or clock; an empty log."""
        with self._lock:
            self.latency_ms = 0
            self.quotas = {}
            self.fault_rate = 0.0
            self.faults = []
            self.log = []
            self.now = None
            self.max_request_bytes = MAX_REQUEST_BYTES
            self._rng = random.Random(0)
            self._hits = {}

    def configure(
        self,
        latency_ms: int | None = None,
        quotas: dict[str, int] | str | None = None,
        fault_rate: float | None = None,
        seed: int | None = None,
        max_request_bytes: int | None = None,
    ) -> None:
        """Set any of latency, quotas (a dict by bucket or a preset name), fault rate, seed, and
        the largest request body accepted (Google's 10 MiB by default; lower it to test splitting)."""
        with self._lock:
            if max_request_bytes is not None:
                if max_request_bytes < 1:
                    raise ValueError("max_request_bytes must be >= 1")
                self.max_request_bytes = int(max_request_bytes)
            if latency_ms is not None:
                if latency_ms < 0:
                    raise ValueError("latency_ms must be >= 0")
                self.latency_ms = int(latency_ms)
            if quotas is not None:
                if isinstance(quotas, str):
                    self.use_quota_preset(quotas)
                else:
                    unknown = set(quotas) - set(QUOTA_BUCKETS)
                    if unknown:
                        raise ValueError(f"unknown quota buckets: {sorted(unknown)}")
                    self.quotas = {k: int(v) for k, v in quotas.items()}
                    self._hits = {}
            if fault_rate is not None:
                if not 0.0 <= fault_rate <= 1.0:
                    raise ValueError("fault_rate must be between 0 and 1")
                self.fault_rate = float(fault_rate)
            if seed is not None:
                self._rng = random.Random(seed)

    def use_quota_preset(self, name: str) -> None:
        """Apply a named quota preset (``google_per_user``)."""
        if name not in QUOTA_PRESETS:
            raise ValueError(f"unknown quota preset {name!r}")
        with self._lock:
            self.quotas = dict(QUOTA_PRESETS[name])
            self._hits = {}

    def inject(
        self, match: str, status: int | None = None, count: int = 1, reset: bool = False
    ) -> None:
        """Queue ``count`` faults for requests matching a method id, an api name or ``*``."""
        if not reset and status not in (500, 503, 429):
            raise ValueError("status must be 500, 503 or 429 (or reset=True)")
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self.faults.append({"match": match, "status": status, "count": count, "reset": reset})

    def clear_log(self) -> None:
        with self._lock:
            self.log = []

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "latency_ms": self.latency_ms,
                "quotas": dict(self.quotas),
                "fault_rate": self.fault_rate,
                "faults": [dict(f) for f in self.faults],
                "now": self.now.isoformat() if self.now else None,
                "max_request_bytes": self.max_request_bytes,
            }

    # -- per request
    def clock(self) -> datetime:
        return self.now if self.now is not None else datetime.now(UTC)

    def take_fault(self, api: str, method_id: str) -> dict[str, Any] | None:
        """The fault (if any) this request suffers: the queue first, then the random rate."""
        with self._lock:
            for fault in self.faults:
                if fault["match"] in ("*", api, method_id):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return fault
            if self.fault_rate > 0 and self._rng.random() < self.fault_rate:
                return {"match": "*", "status": self._rng.choice((500, 503)), "reset": False}
        return None

    def take_quota(self, bucket: str) -> ApiError | None:
        """Count a request against its bucket's sliding 60 s window; 429 when over the limit."""
        with self._lock:
            limit = self.quotas.get(bucket)
            if limit is None:
                return None
            now = time.monotonic()
            hits = self._hits.setdefault(bucket, deque())
            while hits and now - hits[0] >= 60.0:
                hits.popleft()
            if len(hits) >= limit:
                service, metric = _QUOTA_WORDS[bucket]
                return ApiError(
                    429,
                    f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute "
                    f"per user' of service '{service}' for consumer 'project_number:0'.",
                    "RESOURCE_EXHAUSTED",
                )
            hits.append(now)
            return None

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.log.append(entry)


def load_handlers() -> list[str]:
    """Import the handler modules that exist; returns the ones loaded."""
    loaded = []
    for name in HANDLER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        loaded.append(name)
    return loaded


class _Abort(Exception):
    """Close the connection without answering (an injected connection reset)."""


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm on, the client's delayed
    # ACK adds ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (paths may carry sheet names)."""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    # -- plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        if status == 204 or payload is None:
            data = b""
        elif isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=UTF-8"
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _reset_connection(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            super().finish()

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        raw = self._read_body()
        if path.startswith("/_emulator/") or path == "/_emulator":
            self._control(path, query, raw)
            return
        status, payload = self._api(path, query, raw)
        if status == 0:
            self._reset_connection()
            return
        self._send(status, payload)

    def _api(self, path: str, query: dict[str, list[str]], raw: bytes) -> tuple[int, Any]:
        server = self.server
        controls = server.controls
        if controls.latency_ms:
            time.sleep(controls.latency_ms / 1000.0)
        entry: dict[str, Any] = {
            "api": None,
            "method": None,
            "http_method": self.command,
            "path": path,
            "status": 0,
            "bytes": len(raw),  # the request body's size (Google refuses over 10 MiB)
        }
        try:
            status, payload = self._dispatch(path, query, raw, entry)
        except _Abort:
            entry["status"] = 0
            controls.record(entry)
            return 0, None
        except ApiError as err:
            status, payload = err.code, err.body()
        except Exception as exc:  # a handler bug: answer 500, log the place, not the data
            log.error(
                "emulator handler error %s at %s",
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)[-3:]),
            )
            status, payload = 500, ApiError(500, "Internal error encountered.").body()
        entry["status"] = status
        controls.record(entry)
        return status, payload

    def _dispatch(
        self, path: str, query: dict[str, list[str]], raw: bytes, entry: dict[str, Any]
    ) -> tuple[int, Any]:
        server = self.server
        controls = server.controls
        method, path_params = route_table().match(self.command, path)
        entry["api"], entry["method"] = method.api, method.method_id
        # Simulated credential failures (emulator/auth.py): Google checks credentials first.
        denied = emulator_auth.denial(server.url, method.api, method.method_id, path_params)
        if denied is not None:
            raise denied
        if not method.upload and len(raw) > controls.max_request_bytes:
            raise invalid(
                f"Request payload size exceeds the limit: {controls.max_request_bytes} bytes."
            )
        fault = controls.take_fault(method.api, method.method_id)
        if fault is not None:
            if fault.get("reset"):
                raise _Abort()
            raise fault_error(int(fault["status"]))
        over = controls.take_quota(quota_bucket(method.api, method.method_id, self.command))
        if over is not None:
            raise over
        body, media, media_type = self._parse_body(method, query, raw)
        clean_query = validate_query(method, query)
        body = validate_body(method, body)
        fn = HANDLERS.get(method.method_id)
        if fn is None:
            raise ApiError(
                501,
                f"Method {method.method_id} is not implemented by the gsync emulator.",
                "UNIMPLEMENTED",
            )
        with server.store.transaction() as tx:
            req = Request(
                api=method.api,
                method_id=method.method_id,
                path_params=path_params,
                query=clean_query,
                body=body,
                tx=tx,
                now=controls.clock(),
                base_url=server.url,
                media=media,
                media_type=media_type,
            )
            result = fn(req)
        if result is None:
            return 204, None
        if isinstance(result, bytes):
            return 200, result
        fields = req.param("fields")
        return 200, fieldmask.filter_fields(result, fields)

    def _parse_body(
        self, method: Method, query: dict[str, list[str]], raw: bytes
    ) -> tuple[Any, bytes | None, str | None]:
        content_type = self.headers.get("Content-Type", "")
        if method.upload:
            upload_type = (query.get("uploadType") or [""])[-1]
            if upload_type == "media":
                return None, raw, content_type or "application/octet-stream"
            if upload_type == "multipart":
                return self._multipart(raw, content_type)
            raise invalid(
                f"uploadType={upload_type or '(none)'} is not supported by the gsync emulator "
                "(use media or multipart)."
            )
        if not raw.strip():
            return None, None, None
        try:
            return json.loads(raw.decode("utf-8")), None, None
        except (ValueError, UnicodeDecodeError):
            raise invalid("Invalid JSON payload received. Unexpected token.") from None

    def _multipart(self, raw: bytes, content_type: str) -> tuple[Any, bytes | None, str | None]:
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
        )
        if not message.is_multipart():
            raise invalid("Multipart upload expected a multipart/related body.")
        parts = list(message.iter_parts())
        if len(parts) != 2:
            raise invalid("Multipart upload needs exactly a metadata part and a media part.")
        meta_raw = _payload_bytes(parts[0])
        try:
            metadata = json.loads(meta_raw.decode("utf-8")) if meta_raw.strip() else None
        except ValueError:
            raise invalid("Invalid JSON payload received. Unexpected token.") from None
        media = _payload_bytes(parts[1])
        return metadata, media, parts[1].get_content_type()

    # -- /_emulator/ controls
    def _control(self, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        server = self.server
        controls = server.controls
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except ValueError:
            self._send(400, invalid("control body must be JSON").body())
            return
        verb = self.command
        try:
            result = self._builtin_control(verb, path, body)
            if result is _NO_ROUTE:
                result = self._custom_control(verb, path, query, body)
        except ApiError as err:
            self._send(err.code, err.body())
            return
        except (ValueError, TypeError, KeyError) as exc:
            self._send(400, invalid(f"bad control request: {exc}").body())
            return
        if result is _NO_ROUTE:
            self._send(404, ApiError(404, f"No emulator control route {verb} {path}").body())
            return
        self._send(200, result if result is not None else {})
        del controls

    def _builtin_control(self, verb: str, path: str, body: Any) -> Any:
        server = self.server
        controls = server.controls
        if path == "/_emulator/health" and verb == "GET":
            return {"status": "ok", "handlers": sorted(HANDLERS)}
        if path == "/_emulator/reset" and verb == "POST":
            server.reset()
            return {}
        if path == "/_emulator/log":
            if verb == "GET":
                with controls._lock:
                    return {"requests": [dict(e) for e in controls.log]}
            if verb == "DELETE":
                controls.clear_log()
                return {}
        if path == "/_emulator/config":
            if verb == "GET":
                return controls.snapshot()
            if verb == "POST":
                controls.configure(
                    latency_ms=body.get("latency_ms"),
                    quotas=body.get("quotas"),
                    fault_rate=body.get("fault_rate"),
                    seed=body.get("seed"),
                    max_request_bytes=body.get("max_request_bytes"),
                )
                return controls.snapshot()
        if path == "/_emulator/faults":
            if verb == "POST":
                controls.inject(
                    str(body["match"]),
                    status=body.get("status"),
                    count=int(body.get("count", 1)),
                    reset=bool(body.get("reset", False)),
                )
                return controls.snapshot()
            if verb == "DELETE":
                with controls._lock:
                    controls.faults = []
                return {}
            if verb == "GET":
                return controls.snapshot()
        if path == "/_emulator/clock":
            if verb == "POST":
                now = body.get("now")
                if now is None:
                    controls.now = None
                else:
                    moment = datetime.fromisoformat(str(now).replace("Z", "+00:00"))
                    if moment.tzinfo is None:
                        raise ValueError("clock needs a timezone-aware time")
                    controls.now = moment.astimezone(UTC)
                return controls.snapshot()
            if verb == "GET":
                return {"now": controls.clock().isoformat()}
        return _NO_ROUTE

    def _custom_control(self, verb: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        server = self.server
        for route in CONTROL_ROUTES:
            if route.http_method != verb:
                continue
            m = route.pattern.fullmatch(path)
            if m is None:
                continue
            with server.store.transaction() as tx:
                req = Request(
                    api="_emulator",
                    method_id=route.pattern.pattern,
                    path_params=m.groupdict(),
                    query=query,
                    body=body,
                    tx=tx,
                    now=server.controls.clock(),
                    base_url=server.url,
                )
                return route.fn(req)
        return _NO_ROUTE


_NO_ROUTE = object()


def _payload_bytes(part: Any) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    controls: Controls
    store: Store
    url: str
    owner: EmulatorServer

    def reset(self) -> None:
        self.owner.reset()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors (clients going away, injected resets) are not worth a traceback."""


class EmulatorServer:
    """The emulator on a loopback port, in a background thread."""

    def __init__(self, store: Store | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        load_handlers()
        route_table()
        self.store: Store = store if store is not None else MemoryStore()
        self.controls = Controls()
        self.host = host
        self._httpd = _HTTPServer((host, port), _RequestHandler)
        self._httpd.controls = self.controls
        self._httpd.store = self.store
        self._httpd.owner = self
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self._httpd.url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"gsync-emulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (and the store's file, if any)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        close = getattr(self.store, "close", None)
        if callable(close):
            close()

    def reset(self) -> None:
        """Clear all state and controls (what POST /_emulator/reset does)."""
        clear = getattr(self.store, "clear", None)
        if callable(clear):
            clear()
        self.controls.reset()
        emulator_auth.clear(self.url)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
