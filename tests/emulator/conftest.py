"""Fixtures for the emulator's own tests: a fresh in-memory server per test, raw HTTP helpers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from gsync.emulator.server import EmulatorServer
from gsync.emulator.testing import EmulatorClient


class Api:
    """Raw HTTP against an emulator: ``api.post("/v4/spreadsheets", json=...)`` → Response."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def request(self, verb: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(verb, self.url + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as srv:
        yield srv


@pytest.fixture
def api(server: EmulatorServer) -> Api:
    return Api(server.url)


@pytest.fixture
def control(server: EmulatorServer) -> EmulatorClient:
    return EmulatorClient(server.url)


def error_of(response: requests.Response) -> dict[str, Any]:
    """The ``error`` object of a Google-shaped error body (asserts the shape)."""
    body = response.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    assert {"code", "message", "status"} <= set(err), err
    assert err["code"] == response.status_code
    return err
