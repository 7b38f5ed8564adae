"""A trust built once per session, restored for the next module: its files written into the
module's folder and its emulator store copied into a new emulator (tests only)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorClient
from gsync.workspace import Workspace, workspace_for_endpoint


def restored(
    tmp: Path, files: dict[str, bytes], saved: dict[str, Any]
) -> tuple[EmulatorServer, EmulatorClient, Workspace]:
    """Write `files` (path under `tmp` -> bytes) and start an emulator holding a copy of `saved`."""
    for name, body in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_bytes(body)
    server = EmulatorServer().start()
    server.store._data.update(copy.deepcopy(saved))  # type: ignore[attr-defined]
    return server, EmulatorClient(server.url), workspace_for_endpoint(server.url)
