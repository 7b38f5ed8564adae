"""Drive v3 through the real HTTP server: google-api-python-client, and gspread's own calls."""

from __future__ import annotations

from typing import Any

import httplib2
import pytest
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from gsync.emulator.core import MIME_FOLDER, MIME_FORM
from gsync.emulator.server import EmulatorServer

SHEET = "application/vnd.google-apps.spreadsheet"


@pytest.fixture
def drive(server: EmulatorServer) -> Any:
    return build(
        "drive",
        "v3",
        http=httplib2.Http(),
        client_options={"api_endpoint": server.url + "/drive/v3/"},
        static_discovery=True,
    )


def test_files_through_the_client(drive: Any) -> None:
    files = drive.files()
    folder = files.create(body={"name": "Trust", "mimeType": MIME_FOLDER}).execute()
    form = files.create(
        body={"name": "Form A", "mimeType": MIME_FORM, "parents": [folder["id"]]},
        supportsAllDrives=True,
    ).execute()
    assert form == {"kind": "drive#file", "id": form["id"], "name": "Form A", "mimeType": MIME_FORM}
    listed = files.list(
        q=f"'{folder['id']}' in parents and trashed = false",
        fields="nextPageToken, files(id, name, parents)",
        supportsAllDrives=True,
        includeItemsFromAllDrives=True,
        corpora="allDrives",
    ).execute()
    assert listed == {"files": [{"id": form["id"], "name": "Form A", "parents": [folder["id"]]}]}
    files.update(fileId=form["id"], body={"trashed": True}).execute()
    got = files.get(fileId=form["id"], fields="trashed,createdTime").execute()
    assert got["trashed"] is True and set(got) == {"trashed", "createdTime"}
    files.delete(fileId=folder["id"]).execute()
    with pytest.raises(HttpError) as info:
        files.get(fileId=form["id"]).execute()
    assert info.value.resp.status == 404 and "File not found" in str(info.value)


def test_bad_query_is_invalid_value(drive: Any) -> None:
    with pytest.raises(HttpError) as info:
        drive.files().list(q="starred = true").execute()
    assert info.value.resp.status == 400
    assert info.value.error_details[0]["location"] == "q"


def test_permissions_and_about(drive: Any) -> None:
    folder = drive.files().create(body={"name": "F", "mimeType": MIME_FOLDER}).execute()
    perms = drive.permissions()
    created = perms.create(
        fileId=folder["id"],
        body={"type": "user", "role": "writer", "emailAddress": "staff@school.example"},
        sendNotificationEmail=False,
        supportsAllDrives=True,
    ).execute()
    listed = perms.list(fileId=folder["id"], fields="permissions(id,role)").execute()
    assert {"id": created["id"], "role": "writer"} in listed["permissions"]
    perms.delete(fileId=folder["id"], permissionId=created["id"]).execute()
    assert len(perms.list(fileId=folder["id"]).execute()["permissions"]) == 1
    with pytest.raises(HttpError) as info:
        drive.about().get().execute()
    assert info.value.resp.status == 400
    assert drive.about().get(fields="user").execute()["user"]["me"] is True


def test_gspread_style_calls(api: Any) -> None:
    """The exact requests gspread 6 makes: create with supportsAllDrives=True, list with its q."""
    folder = api.post("/drive/v3/files", json={"name": "F", "mimeType": MIME_FOLDER}).json()
    api.post(
        "/drive/v3/files?supportsAllDrives=True",
        json={"name": "Form", "mimeType": MIME_FORM, "parents": [folder["id"]]},
    ).raise_for_status()
    q = f'mimeType="{MIME_FORM}" and name = "Form" and parents in "{folder["id"]}"'
    listed = api.get(
        "/drive/v3/files",
        params={
            "q": q,
            "pageSize": 1000,
            "supportsAllDrives": True,
            "includeItemsFromAllDrives": True,
            "fields": "kind,nextPageToken,files(id,name,createdTime,modifiedTime)",
        },
    )
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["kind"] == "drive#fileList" and [f["name"] for f in body["files"]] == ["Form"]
    assert set(body["files"][0]) == {"id", "name", "createdTime", "modifiedTime"}


def test_gspread_creates_lists_renames_and_deletes_spreadsheets(
    server: EmulatorServer, drive: Any
) -> None:
    import gspread

    from gsync.workspace import workspace_for_endpoint

    client = workspace_for_endpoint(server.url).sheets()
    created = client.create("CEIAG Metrics & Destinations")
    listed = client.list_spreadsheet_files(title="CEIAG Metrics & Destinations")
    assert [f["id"] for f in listed] == [created.id]
    assert created.title == "CEIAG Metrics & Destinations"
    assert client.list_spreadsheet_files(title="Other") == []
    # The Drive name and the spreadsheet title stay one: a Drive rename shows in Sheets.
    drive.files().update(fileId=created.id, body={"name": "Renamed"}).execute()
    assert client.open_by_key(created.id).title == "Renamed"
    client.del_spreadsheet(created.id)
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        client.open_by_key(created.id)
    assert client.list_spreadsheet_files() == []
