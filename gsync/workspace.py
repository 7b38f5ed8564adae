"""Which backend a run talks to, and the clients for it.

1. `GSYNC_EMULATOR_HOST=host:port` set: that emulator, plain HTTP, no credentials.
2. `google.auth` in the configuration is not "local": Google, with those credentials.
3. Otherwise the **embedded local workspace**: the emulator run in-process on a loopback port,
   its state kept on disk (SQLite) so every command works without a Google account.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from gsync.config import Config
from gsync.google.clients import (
    discovery_service,
    emulator_endpoint,
    http_status,
    sheets_client,
    translate,
)
from gsync.google.retry import RetryPolicy, call_with_retry

log = logging.getLogger("gsync.workspace")

ENV_EMULATOR_HOST = "GSYNC_EMULATOR_HOST"
Kind = Literal["google", "emulator", "local"]


@dataclass
class Workspace:
    """Clients for one backend. Close it to stop an embedded emulator."""

    kind: Kind
    endpoint: str | None = None
    credentials: Any = None
    server: Any = None
    policy: RetryPolicy | None = None
    state_dir: Path | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def emulator_url(self) -> str | None:
        """Base URL of the emulator in use (None when talking to Google)."""
        return self.endpoint

    def describe(self) -> str:
        if self.kind == "google":
            return "Google Workspace"
        if self.kind == "local":
            return f"embedded local workspace ({self.state_dir})"
        return f"emulator at {self.endpoint}"

    def sheets(self) -> Any:
        """A gspread.Client."""
        if "sheets" not in self._cache:
            self._cache["sheets"] = sheets_client(self.credentials, self.endpoint, self.policy)
        return self._cache["sheets"]

    def forms(self) -> Any:
        """A Forms v1 Resource."""
        if "forms" not in self._cache:
            self._cache["forms"] = discovery_service("forms", "v1", self.credentials, self.endpoint)
        return self._cache["forms"]

    def drive(self) -> Any:
        """A Drive v3 Resource."""
        if "drive" not in self._cache:
            self._cache["drive"] = discovery_service("drive", "v3", self.credentials, self.endpoint)
        return self._cache["drive"]

    def execute(self, request: Any, what: str | None = None) -> Any:
        """Run a googleapiclient HttpRequest with bounded retry; failures become GsyncErrors."""
        label = (
            what or f"{request.method} {request.methodId}"
            if hasattr(request, "methodId")
            else (what or "request")
        )
        try:
            return call_with_retry(
                lambda: request.execute(num_retries=0),
                what=label,
                status_of=http_status,
                policy=self.policy,
            )
        except Exception as exc:
            if http_status(exc) is None:
                raise
            raise translate(exc, label) from None

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def workspace_for_endpoint(url: str, policy: RetryPolicy | None = None) -> Workspace:
    """A workspace on an emulator already running at `url` (tests, `GSYNC_EMULATOR_HOST`)."""
    return Workspace(kind="emulator", endpoint=emulator_endpoint(url), policy=policy)


def open_local_workspace(config: Config) -> Workspace:
    """Start the embedded emulator in-process with its state under `workspace.state_dir`."""
    from gsync.emulator.server import EmulatorServer
    from gsync.emulator.store import open_store

    state_dir = config.resolve(config.workspace.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    server = EmulatorServer(open_store(state_dir)).start()
    log.info("embedded local workspace at %s", state_dir)
    return Workspace(kind="local", endpoint=server.url, server=server, state_dir=state_dir)


def open_workspace(config: Config, scopes: tuple[str, ...] | None = None) -> Workspace:
    """The workspace this run should use (see the module docstring for the order)."""
    host = os.environ.get(ENV_EMULATOR_HOST, "").strip()
    if host:
        return workspace_for_endpoint(host)
    if config.google.auth != "local":
        from gsync.google.auth import ALL_SCOPES, load_credentials

        return Workspace(kind="google", credentials=load_credentials(config, scopes or ALL_SCOPES))
    return open_local_workspace(config)
