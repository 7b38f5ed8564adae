"""Framework I/O details: media uploads, 204 answers, and SQLite serialisation across stores."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gsync.emulator.core import HANDLERS, Request
from gsync.emulator.store import SqliteStore

from .conftest import Api, error_of


@pytest.fixture
def echo_upload(monkeypatch: pytest.MonkeyPatch) -> None:
    def create(req: Request) -> Any:
        return {
            "body": req.body,
            "media": (req.media or b"").decode(),
            "media_type": req.media_type,
        }

    def delete(req: Request) -> Any:
        return None

    monkeypatch.setitem(HANDLERS, "drive.files.create", create)
    monkeypatch.setitem(HANDLERS, "drive.files.delete", delete)


def test_multipart_upload_splits_metadata_and_media(api: Api, echo_upload: None) -> None:
    boundary = "xyz"
    raw = (
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
        '{"name": "a.csv", "mime_type": "text/csv"}\r\n'
        f"--{boundary}\r\nContent-Type: text/csv\r\n\r\nx,y\n1,2\r\n--{boundary}--\r\n"
    ).encode()
    response = api.post(
        "/upload/drive/v3/files",
        params={"uploadType": "multipart"},
        data=raw,
        headers={"Content-Type": f"multipart/related; boundary={boundary}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # metadata is validated against the File schema and normalised to camelCase
    assert body["body"] == {"name": "a.csv", "mimeType": "text/csv"}
    assert body["media"] == "x,y\n1,2" and body["media_type"] == "text/csv"


def test_media_upload_and_unsupported_resumable(api: Api, echo_upload: None) -> None:
    response = api.post(
        "/upload/drive/v3/files",
        params={"uploadType": "media"},
        data=b"raw bytes",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.json()["media"] == "raw bytes" and response.json()["body"] == {}
    resumable = api.post("/upload/drive/v3/files", params={"uploadType": "resumable"}, data=b"")
    assert "not supported" in error_of(resumable)["message"]


def test_upload_metadata_is_validated(api: Api, echo_upload: None) -> None:
    raw = b'--b\r\nContent-Type: application/json\r\n\r\n{"bogus": 1}\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n'
    response = api.post(
        "/upload/drive/v3/files",
        params={"uploadType": "multipart"},
        data=raw,
        headers={"Content-Type": "multipart/related; boundary=b"},
    )
    assert 'Unknown name "bogus"' in error_of(response)["message"]


def test_none_result_is_204_without_body(api: Api, echo_upload: None) -> None:
    response = api.request("DELETE", "/drive/v3/files/abc")
    assert response.status_code == 204 and response.content == b""


def test_sqlite_transactions_serialise_across_stores(tmp_path: Path) -> None:
    """Two stores on one file (as two processes would be): the second waits for the first."""
    first, second = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    started = threading.Event()

    def slow_writer() -> None:
        with first.transaction() as tx:
            value = tx.get("k", "n") or 0
            started.set()
            time.sleep(0.3)
            tx.put("k", "n", value + 1)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    started.wait(5)
    with second.transaction() as tx:  # blocks until the writer commits
        tx.put("k", "n", (tx.get("k", "n") or 0) + 1)
    thread.join()
    with first.transaction() as tx:
        assert tx.get("k", "n") == 2  # no lost update
    first.close()
    second.close()


def test_peek_is_shared_get_is_private(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    with store.transaction() as tx:
        tx.put("k", "a", [1, 2])
    with store.transaction() as tx:
        assert tx.peek("k", "a") is tx.peek("k", "a")
        assert tx.get("k", "a") is not tx.peek("k", "a")
        tx.put("k", "a", [3])
        assert tx.peek("k", "a") == [3]  # own writes are visible
    store.close()
