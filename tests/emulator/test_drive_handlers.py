"""Drive v3 handlers, called directly on an in-memory store (no HTTP server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gsync.emulator import drive, forms
from gsync.emulator.core import (
    HANDLERS,
    MIME_FOLDER,
    MIME_FORM,
    ApiError,
    MemoryStore,
    Request,
    register_file,
)

T0 = datetime(2026, 7, 1, 9, 0, 0, tzinfo=UTC)
SHEET = "application/vnd.google-apps.spreadsheet"


class Api:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.now = T0

    def call(
        self, method_id: str, body: Any = None, query: dict[str, Any] | None = None, **path: str
    ) -> Any:
        q = {k: [str(v)] for k, v in (query or {}).items()}
        with self.store.transaction() as tx:
            return HANDLERS[method_id](Request("drive", method_id, path, q, body, tx, now=self.now))

    def create(self, name: str, mime: str, parents: list[str] | None = None) -> str:
        """A file registered the way the Sheets/Forms handlers do, one second apart."""
        self.now += timedelta(seconds=1)
        with self.store.transaction() as tx:
            return str(register_file(tx, f"id-{name}", name, mime, self.now, parents)["id"])


def error(fn: Any, *args: Any, **kwargs: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.fixture
def api() -> Api:
    return Api()


def names(api: Api, q: str, **query: Any) -> list[str]:
    out = api.call("drive.files.list", query={"q": q, "fields": "*", **query})
    return [f["name"] for f in out["files"]]


def test_create_folder_and_default_fields(api: Api) -> None:
    out = api.call("drive.files.create", {"name": "Trust", "mimeType": MIME_FOLDER})
    assert set(out) == {"kind", "id", "name", "mimeType"} and out["kind"] == "drive#file"
    full = api.call("drive.files.get", query={"fields": "*"}, fileId=out["id"])
    assert full["parents"] == [] and full["trashed"] is False and full["createdTime"]


def test_create_form_makes_an_unpublished_form(api: Api) -> None:
    folder = api.create("F", MIME_FOLDER)
    out = api.call(
        "drive.files.create", {"name": "Form A", "mimeType": MIME_FORM, "parents": [folder]}
    )
    with api.store.transaction() as tx:
        form = tx.get(forms.FORMS, out["id"])
        record = tx.get("files", out["id"])
    assert form["info"]["documentTitle"] == "Form A"
    assert form["publishSettings"]["publishState"]["isPublished"] is False
    assert record["parents"] == [folder]


def test_create_refuses_bad_parents(api: Api) -> None:
    folder = api.create("F", MIME_FOLDER)
    sheet = api.create("S", SHEET)
    assert error(api.call, "drive.files.create", {"name": "x", "parents": ["nope"]}).code == 404
    assert error(api.call, "drive.files.create", {"name": "x", "parents": [sheet]}).code == 404
    err = error(api.call, "drive.files.create", {"name": "x", "parents": [folder, folder + "2"]})
    assert err.code == 403


def test_not_found_has_drive_error_shape(api: Api) -> None:
    err = error(api.call, "drive.files.get", fileId="missing")
    body = err.body()["error"]
    assert body["code"] == 404 and body["message"] == "File not found: missing."
    assert body["errors"][0]["reason"] == "notFound" and body["errors"][0]["location"] == "fileId"


def test_list_query_terms(api: Api) -> None:
    folder = api.create("Trust folder", MIME_FOLDER)
    api.create("CEIAG Metrics & Destinations", SHEET, [folder])
    api.create("HelloWorld", SHEET)
    api.create("Form A 2026", MIME_FORM, [folder])
    assert names(api, f"'{folder}' in parents") == ["CEIAG Metrics & Destinations", "Form A 2026"]
    assert names(api, f'parents in "{folder}" and mimeType="{SHEET}"') == [
        "CEIAG Metrics & Destinations"
    ]
    assert names(api, "name = 'HelloWorld'") == ["HelloWorld"]
    assert names(api, "name != 'HelloWorld' and mimeType != 'x'") == [
        "Trust folder",
        "CEIAG Metrics & Destinations",
        "Form A 2026",
    ]
    # Drive's `contains` on names is prefix matching: 'Hello' finds HelloWorld, 'World' does not.
    assert names(api, "name contains 'hello'") == ["HelloWorld"]
    assert names(api, "name contains 'World'") == []
    assert names(api, "name contains 'Destin'") == ["CEIAG Metrics & Destinations"]
    assert names(api, "'root' in parents and trashed = false") == ["Trust folder", "HelloWorld"]


@pytest.mark.parametrize(
    "q",
    [
        "name = 'x' or name = 'y'",
        "not trashed",
        "fullText contains 'x'",
        "name > 'x'",
        "mimeType contains 'sheet'",
        "trashed = maybe",
        "name = 'unterminated",
        "name = 'x' and",
        "modifiedTime > '2026-01-01T00:00:00'",
    ],
)
def test_list_refuses_unsupported_queries(api: Api, q: str) -> None:
    err = error(api.call, "drive.files.list", query={"q": q})
    assert err.code == 400 and err.body()["error"]["errors"][0]["location"] == "q"


def test_trash_and_untrash(api: Api) -> None:
    sheet = api.create("S", SHEET)
    api.call("drive.files.update", {"trashed": True}, fileId=sheet)
    assert names(api, "trashed = true") == ["S"]
    assert names(api, "trashed = false") == []
    assert names(api, "") == ["S"]  # Drive lists trashed files unless the query excludes them
    api.call("drive.files.update", {"trashed": False}, fileId=sheet)
    assert names(api, "trashed != true") == ["S"]


def test_list_pages_and_order(api: Api) -> None:
    for name in ["b", "a", "d", "c", "e"]:
        api.create(name, SHEET)
    assert names(api, "", orderBy="name desc") == ["e", "d", "c", "b", "a"]
    assert names(api, "", orderBy="createdTime") == ["b", "a", "d", "c", "e"]
    seen: list[str] = []
    query: dict[str, Any] = {"orderBy": "name", "pageSize": 2, "fields": "*"}
    while True:
        out = api.call("drive.files.list", query=query)
        seen += [f["name"] for f in out["files"]]
        if "nextPageToken" not in out:
            break
        query["pageToken"] = out["nextPageToken"]
    assert seen == ["a", "b", "c", "d", "e"]
    query["orderBy"] = "modifiedTime"
    assert error(api.call, "drive.files.list", query=query).code == 400
    assert error(api.call, "drive.files.list", query={"orderBy": "starred"}).code == 400


def test_list_corpora(api: Api) -> None:
    api.create("S", SHEET)
    assert error(api.call, "drive.files.list", query={"corpora": "allDrives"}).code == 403
    assert (
        error(
            api.call,
            "drive.files.list",
            query={"corpora": "drive", "includeItemsFromAllDrives": "true"},
        ).code
        == 400
    )
    both = {
        "corpora": "allDrives",
        "includeItemsFromAllDrives": "true",
        "supportsAllDrives": "true",
    }
    assert len(api.call("drive.files.list", query=both)["files"]) == 1


def test_update_rename_parents(api: Api) -> None:
    a, b = api.create("A", MIME_FOLDER), api.create("B", MIME_FOLDER)
    form = api.call("drive.files.create", {"name": "Form", "mimeType": MIME_FORM, "parents": [a]})[
        "id"
    ]
    assert error(api.call, "drive.files.update", {"parents": [b]}, fileId=form).code == 403
    assert error(api.call, "drive.files.update", {}, {"addParents": b}, fileId=form).code == 403
    api.call(
        "drive.files.update", {"name": "Form A"}, {"addParents": b, "removeParents": a}, fileId=form
    )
    with api.store.transaction() as tx:
        record, stored_form = tx.get("files", form), tx.get(forms.FORMS, form)
    assert record["parents"] == [b] and record["name"] == "Form A"
    assert stored_form["info"]["documentTitle"] == "Form A"


def test_delete_folder_takes_descendants_and_form_responses(api: Api) -> None:
    top = api.create("Top", MIME_FOLDER)
    inner = api.create("Inner", MIME_FOLDER, [top])
    form = api.call("drive.files.create", {"name": "F", "mimeType": MIME_FORM, "parents": [inner]})[
        "id"
    ]
    keep = api.create("Keep", SHEET)
    with api.store.transaction() as tx:
        tx.put(forms.RESPONSES, f"{form}/r1", {"responseId": "r1"})
    assert api.call("drive.files.delete", fileId=top) is None
    with api.store.transaction() as tx:
        assert tx.keys("files") == [keep]
        assert tx.keys(forms.FORMS) == [] and tx.keys(forms.RESPONSES) == []
    assert error(api.call, "drive.files.delete", fileId=top).code == 404


def test_permissions_lifecycle(api: Api) -> None:
    sheet = api.create("S", SHEET)
    user = api.call(
        "drive.permissions.create",
        {"type": "user", "role": "writer", "emailAddress": "staff@school.example"},
        {"sendNotificationEmail": "false"},
        fileId=sheet,
    )
    assert set(user) == {"kind", "id", "type", "role"} and user["role"] == "writer"
    again = api.call(
        "drive.permissions.create",
        {"type": "user", "role": "reader", "emailAddress": "Staff@school.example"},
        fileId=sheet,
    )
    assert again["id"] == user["id"]
    domain = api.call(
        "drive.permissions.create",
        {"type": "domain", "role": "reader", "domain": "school.example"},
        fileId=sheet,
    )
    anyone = api.call(
        "drive.permissions.create", {"type": "anyone", "role": "reader"}, fileId=sheet
    )
    assert anyone["id"] == "anyoneWithLink"
    listed = api.call("drive.permissions.list", query={"fields": "*"}, fileId=sheet)["permissions"]
    assert [(p["id"], p["role"]) for p in listed] == [
        ("owner", "owner"),
        (user["id"], "reader"),
        (domain["id"], "reader"),
        ("anyoneWithLink", "reader"),
    ]
    assert api.call("drive.permissions.delete", fileId=sheet, permissionId=domain["id"]) is None
    assert (
        error(api.call, "drive.permissions.delete", fileId=sheet, permissionId=domain["id"]).code
        == 404
    )
    assert (
        error(api.call, "drive.permissions.delete", fileId=sheet, permissionId="owner").code == 403
    )
    page = api.call("drive.permissions.list", query={"pageSize": 2}, fileId=sheet)
    rest = api.call(
        "drive.permissions.list", query={"pageToken": page["nextPageToken"]}, fileId=sheet
    )
    assert len(page["permissions"]) == 2 and len(rest["permissions"]) == 1


@pytest.mark.parametrize(
    ("body", "query", "code"),
    [
        ({"type": "user", "role": "reader"}, {}, 400),
        ({"type": "domain", "role": "reader"}, {}, 400),
        ({"type": "robot", "role": "reader"}, {}, 400),
        ({"type": "user", "role": "boss", "emailAddress": "a@b.example"}, {}, 400),
        ({"type": "user", "role": "owner", "emailAddress": "a@b.example"}, {}, 403),
        ({"type": "anyone", "role": "organizer"}, {}, 403),
        ({"type": "anyone", "role": "reader"}, {"sendNotificationEmail": "true"}, 400),
    ],
)
def test_permission_refusals(
    api: Api, body: dict[str, Any], query: dict[str, Any], code: int
) -> None:
    sheet = api.create("S", SHEET)
    assert error(api.call, "drive.permissions.create", body, query, fileId=sheet).code == code


def test_transfer_ownership(api: Api) -> None:
    sheet = api.create("S", SHEET)
    api.call(
        "drive.permissions.create",
        {"type": "user", "role": "owner", "emailAddress": "head@school.example"},
        {"transferOwnership": "true"},
        fileId=sheet,
    )
    listed = api.call("drive.permissions.list", query={"fields": "*"}, fileId=sheet)["permissions"]
    assert sorted(p["role"] for p in listed) == ["owner", "writer"]


def test_about_requires_fields(api: Api) -> None:
    err = error(api.call, "drive.about.get")
    assert err.code == 400 and err.body()["error"]["errors"][0]["location"] == "fields"
    assert api.call("drive.about.get", query={"fields": "user"})["user"]["me"] is True


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20))
def test_quoted_names_round_trip(name: str) -> None:
    escaped = name.replace("\\", "\\\\").replace("'", "\\'")
    assert drive.parse_query(f"name = '{escaped}' and trashed = false") == [
        ("name", "=", name),
        ("trashed", "=", "false"),
    ]
