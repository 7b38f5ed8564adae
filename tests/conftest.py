"""Shared fixtures: an emulator on a free loopback port (reset per test), a workspace on it,
a sample configuration, and a CLI runner pointed at both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gsync.demo import SAMPLE_SCHOOLS, SAMPLE_TERM_DATES

# Retries in tests wait milliseconds, not seconds.
os.environ.setdefault("GSYNC_RETRY_BASE_S", "0.01")
os.environ.pop("GSYNC_EMULATOR_HOST", None)

SAMPLE_CONFIG = (
    """\
# A trust of two schools, used by the tests.
[trust]
name = "Test Learning Trust"
domains = ["northfield.sch.uk", "southgate.sch.uk"]

"""
    + SAMPLE_SCHOOLS
    + SAMPLE_TERM_DATES
)


@dataclass
class Emulator:
    """A running emulator: its URL, its control client and the server object."""

    url: str
    client: Any
    server: Any


@pytest.fixture(scope="session")
def _emulator_server() -> Iterator[Any]:
    from gsync.emulator.server import EmulatorServer

    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def emulator(_emulator_server: Any) -> Iterator[Emulator]:
    from gsync.emulator.testing import EmulatorClient

    client = EmulatorClient(_emulator_server.url)
    client.reset()
    yield Emulator(url=_emulator_server.url, client=client, server=_emulator_server)
    client.reset()


@pytest.fixture
def workspace(emulator: Emulator) -> Any:
    from gsync.workspace import workspace_for_endpoint

    return workspace_for_endpoint(emulator.url)


@pytest.fixture
def config_file(tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A gsync.toml for two schools; the CLI talks to the test emulator."""
    path = tmp_path / "gsync.toml"
    path.write_text(SAMPLE_CONFIG, encoding="utf-8")
    monkeypatch.setenv("GSYNC_EMULATOR_HOST", emulator.url.removeprefix("http://"))
    return path


@pytest.fixture
def cli(config_file: Path) -> Any:
    """Run `gsync ARGS...` with the sample configuration: cli("sync", "--json")."""
    from gsync.cli import main

    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(
            main, ["--config", str(config_file), *args], input=input, catch_exceptions=False
        )

    return run
