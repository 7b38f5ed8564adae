"""`gsync emulator serve`: run the local Google API emulator standalone."""

from __future__ import annotations

import time
from pathlib import Path

import click

from gsync.cli import common_options


@click.group()
def emulator() -> None:
    """The local emulator of the Sheets, Forms and Drive APIs."""


@emulator.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=int, default=8765, show_default=True, help="Port (0 = any free port).")
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep state in this folder (SQLite); default: in memory, lost on exit.",
)
@click.option(
    "--latency-ms", type=float, default=0.0, show_default=True, help="Added latency per request."
)
@click.option(
    "--google-quotas/--no-google-quotas",
    default=False,
    show_default=True,
    help="Answer 429 past Google's published per-user per-minute quotas.",
)
@common_options
def serve(
    host: str, port: int, state_dir: Path | None, latency_ms: int, google_quotas: bool
) -> None:
    """Serve the emulator until interrupted.

    Point gsync (or any client) at it with GSYNC_EMULATOR_HOST=HOST:PORT.
    """
    from gsync.emulator.server import EmulatorServer
    from gsync.emulator.store import open_store

    if host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("127."):
        raise click.UsageError(
            "the emulator serves loopback addresses only (127.0.0.1, localhost, ::1)"
        )
    server = EmulatorServer(open_store(state_dir), host=host, port=port)
    server.controls.configure(
        latency_ms=int(latency_ms), quotas="google_per_user" if google_quotas else None
    )
    server.start()
    click.echo(
        f"gsync emulator serving on {server.url}  (export GSYNC_EMULATOR_HOST={server.url[7:]})"
    )
    click.echo(f"state: {state_dir or 'in memory'}; press Ctrl-C to stop")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
