"""Drive v3 handlers for the emulator: the file metadata, listing and sharing gsync uses.

Files live in kind ``"files"`` (see ``core.register_file``), shared with the Sheets and Forms
handlers, which register the files they create. Drive answers errors in its older shape, with an
``errors`` list (domain, reason, location); ``DriveError`` adds it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import json
import re
from collections.abc import Callable
from typing import Any

from gsync.emulator.core import (
    EMULATOR_USER,
    MIME_FOLDER,
    MIME_FORM,
    MIME_SPREADSHEET,
    ApiError,
    Request,
    Tx,
    handler,
    new_id,
    register_file,
    rfc3339,
)

FILES = "files"
MAX_PAGE_SIZE = 1000  # files.list: "values above 1000 will be coerced to 1000"
DEFAULT_PAGE_SIZE = 100
# Drive answers without `fields` carry only these (files.list guide: "kind, id, name, mimeType").
DEFAULT_FILE_FIELDS = ("kind", "id", "name", "mimeType")
DEFAULT_PERMISSION_FIELDS = ("kind", "id", "type", "role")
ROLES = ("owner", "organizer", "fileOrganizer", "writer", "commenter", "reader")
TYPES = ("user", "group", "domain", "anyone")
ORDER_KEYS = ("name", "createdTime", "modifiedTime")


class DriveError(ApiError):
    """An ApiError in Drive's shape: ``error.errors[]`` with domain, reason and location."""

    def __init__(self, code: int, message: str, reason: str, location: str | None = None) -> None:
        super().__init__(code, message)
        self.reason = reason
        self.location = location

    def body(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "domain": "global",
            "reason": self.reason,
            "message": self.message,
        }
        if self.location:
            detail["locationType"] = "parameter"
            detail["location"] = self.location
        return {"error": {"code": self.code, "message": self.message, "errors": [detail]}}


def invalid_value(location: str, message: str = "Invalid Value") -> DriveError:
    return DriveError(400, message, "invalid", location)


def file_not_found(file_id: str) -> DriveError:
    return DriveError(404, f"File not found: {file_id}.", "notFound", "fileId")


def _flag(req: Request, name: str) -> bool:
    return (req.param(name) or "false").lower() == "true"


def _load(tx: Tx, file_id: str) -> dict[str, Any]:
    record = tx.get(FILES, file_id)
    if record is None:
        raise file_not_found(file_id)
    return dict(record)


def _shape(record: dict[str, Any], req: Request, defaults: tuple[str, ...]) -> dict[str, Any]:
    """Without `fields`, Drive returns a default subset; with it, the emulator returns the
    whole resource (it does not parse field selectors)."""
    if req.param("fields"):
        return record
    return {k: record[k] for k in defaults if k in record}


def _sheets() -> Any:
    """The Sheets handlers' module, which owns spreadsheet resources (imported at call time:
    it imports core and registers handlers of its own)."""
    return importlib.import_module("gsync.emulator.sheets")


def _check_parents(tx: Tx, parents: list[str]) -> None:
    for parent in parents:
        folder = tx.get(FILES, parent)
        if folder is None or folder.get("mimeType") != MIME_FOLDER:
            raise file_not_found(parent)


# --- files -------------------------------------------------------------------------------


@handler("drive.files.create")
def create_file(req: Request) -> dict[str, Any]:
    """files.create (metadata only): a folder, a spreadsheet (through Sheets) or a form."""
    body = req.body if isinstance(req.body, dict) else {}
    name = str(body.get("name") or "Untitled")
    mime = str(body.get("mimeType") or "application/octet-stream")
    parents = [str(p) for p in body.get("parents") or []]
    if len(parents) > 1:
        # Drive v3 single-parenting (since 2020): a file has at most one parent.
        raise DriveError(403, "Increasing the number of parents is not allowed.", "cannotAddParent")
    _check_parents(req.tx, parents)
    file_id = str(body.get("id") or new_id(33))
    if req.tx.get(FILES, file_id) is not None:
        raise DriveError(409, "A file already exists with the provided ID.", "fileIdInUse", "id")
    if mime == MIME_SPREADSHEET:
        _sheets().new_spreadsheet(req.tx, file_id, name, req.now)
    elif mime == MIME_FORM:
        from gsync.emulator.forms import new_form

        new_form(req.tx, file_id, name, name, req.now, parents)
    record = register_file(req.tx, file_id, name, mime, req.now, parents)
    if isinstance(body.get("description"), str):
        record["description"] = body["description"]
        req.tx.put(FILES, file_id, record)
    return _shape(record, req, DEFAULT_FILE_FIELDS)


@handler("drive.files.get")
def get_file(req: Request) -> dict[str, Any]:
    """files.get: trashed files are still returned."""
    return _shape(_load(req.tx, req.path_params["fileId"]), req, DEFAULT_FILE_FIELDS)


@handler("drive.files.update")
def update_file(req: Request) -> dict[str, Any]:
    """files.update: name, description, trashed; parents only through addParents/removeParents."""
    file_id = req.path_params["fileId"]
    record = _load(req.tx, file_id)
    body = req.body if isinstance(req.body, dict) else {}
    if "parents" in body:
        raise DriveError(
            403,
            "The parents field is not directly writable in update requests. "
            "Use the addParents and removeParents parameters instead.",
            "fieldNotWritable",
        )
    if "mimeType" in body and body["mimeType"] != record["mimeType"]:
        raise DriveError(
            403, "The mimeType of a Google file cannot be changed.", "fieldNotWritable"
        )
    add = [p for p in (req.param("addParents") or "").split(",") if p]
    remove = [p for p in (req.param("removeParents") or "").split(",") if p]
    _check_parents(req.tx, add)
    parents = [p for p in record["parents"] if p not in remove]
    parents += [p for p in add if p not in parents]
    if len(parents) > 1:
        raise DriveError(403, "Increasing the number of parents is not allowed.", "cannotAddParent")
    if file_id in parents:
        raise invalid_value("addParents", "A file cannot be its own parent.")
    record["parents"] = parents
    if "name" in body:
        record["name"] = str(body["name"])
        # The Drive name is the form's documentTitle and the spreadsheet's title.
        if record["mimeType"] == MIME_FORM:
            from gsync.emulator.forms import rename_form

            rename_form(req.tx, file_id, record["name"])
        elif record["mimeType"] == MIME_SPREADSHEET:
            _sheets().rename_spreadsheet(req.tx, file_id, record["name"])
    if "description" in body:
        record["description"] = str(body["description"])
    if "trashed" in body:
        record["trashed"] = bool(body["trashed"])
    record["modifiedTime"] = rfc3339(req.now)
    req.tx.put(FILES, file_id, record)
    return _shape(record, req, DEFAULT_FILE_FIELDS)


@handler("drive.files.delete")
def delete_file(req: Request) -> None:
    """files.delete: permanent; a folder's descendants go with it; a form loses its responses."""
    file_id = req.path_params["fileId"]
    _load(req.tx, file_id)
    doomed = [file_id]
    for current in doomed:
        doomed += [
            key
            for key in req.tx.keys(FILES)
            if current in (req.tx.get(FILES, key) or {}).get("parents", []) and key not in doomed
        ]
    for key in doomed:
        record = req.tx.get(FILES, key) or {}
        if record.get("mimeType") == MIME_FORM:
            from gsync.emulator.forms import delete_form

            delete_form(req.tx, key)
        elif record.get("mimeType") == MIME_SPREADSHEET:
            _sheets().delete_spreadsheet(req.tx, key)
        req.tx.delete(FILES, key)


# --- files.list and its `q` --------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<op>!=|=|\bcontains\b|\bin\b)
      | (?P<word>[A-Za-z_]+)
    )""",
    re.VERBOSE,
)


def _tokens(q: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(q):
        if q[pos:].strip() == "":
            break
        match = _TOKEN.match(q, pos)
        if not match:
            raise invalid_value("q")
        pos = match.end()
        if match.group("str") is not None:
            raw = match.group("str")[1:-1]
            out.append(("str", re.sub(r"\\(.)", r"\1", raw)))
        elif match.group("op") is not None:
            out.append(("op", match.group("op")))
        else:
            out.append(("word", match.group("word")))
    return out


Term = tuple[str, str, str]  # (field, operator, value)


def parse_query(q: str) -> list[Term]:
    """Parse the supported subset of Drive's `q`: terms joined by `and`.

    Terms: ``name = 'x'``, ``name != 'x'``, ``name contains 'x'``, ``mimeType = 'x'``,
    ``mimeType != 'x'``, ``'id' in parents`` (and gspread's ``parents in 'id'``),
    ``trashed = true|false``. Anything else is refused as Drive refuses a bad query:
    400 "Invalid Value" at location q.
    """
    tokens = _tokens(q)
    terms: list[Term] = []
    n = 0
    while n < len(tokens):
        if terms:
            if tokens[n] != ("word", "and") and tokens[n] != ("word", "AND"):
                raise invalid_value("q")
            n += 1
        part = tokens[n : n + 3]
        n += 3
        if len(part) != 3:
            raise invalid_value("q")
        (k1, v1), (k2, v2), (k3, v3) = part
        if (k1, k2, v2, k3, v3) == ("str", "op", "in", "word", "parents"):
            terms.append(("parents", "in", v1))
        elif (k1, v1, k2, v2, k3) == ("word", "parents", "op", "in", "str"):
            terms.append(("parents", "in", v3))
        elif k1 == "word" and v1 in ("name", "mimeType") and k2 == "op" and k3 == "str":
            allowed = ("=", "!=", "contains") if v1 == "name" else ("=", "!=")
            if v2 not in allowed:
                raise invalid_value("q")
            terms.append((v1, v2, v3))
        elif (k1, v1, k2, k3) == ("word", "trashed", "op", "word") and v2 in ("=", "!="):
            if v3 not in ("true", "false"):
                raise invalid_value("q")
            terms.append(("trashed", v2, v3))
        else:
            raise invalid_value("q")
    return terms


def _name_contains(name: str, prefix: str) -> bool:
    # Drive: "The contains operator only performs prefix matching for a name term" (search
    # terms reference). The emulator matches the prefix at the start of any word, ignoring case.
    low, want = name.lower(), prefix.lower()
    return any(
        low.startswith(want, i) for i in range(len(low)) if i == 0 or not low[i - 1].isalnum()
    )


def _matches(record: dict[str, Any], terms: list[Term]) -> bool:
    for field, op, value in terms:
        if field == "parents":
            parents = record.get("parents") or []
            if not (value in parents or (value == "root" and not parents)):
                return False
        elif field == "trashed":
            if (bool(record.get("trashed")) == (value == "true")) != (op == "="):
                return False
        elif op == "contains":
            if not _name_contains(str(record.get(field, "")), value):
                return False
        elif (record.get(field) == value) != (op == "="):
            return False
    return True


def _sort_key(field: str) -> Callable[[dict[str, Any]], str]:
    return lambda record: str(record.get(field, ""))


def _order(records: list[dict[str, Any]], order_by: str) -> list[dict[str, Any]]:
    out = sorted(records, key=lambda r: (r["createdTime"], r["id"]))
    if not order_by.strip():
        return out
    keys = [k.strip() for k in order_by.split(",") if k.strip()]
    for key in reversed(keys):  # stable sorts, least significant key first
        field, _, direction = key.partition(" ")
        direction = direction.strip().lower()
        if field not in ORDER_KEYS or direction not in ("", "asc", "desc"):
            raise invalid_value("orderBy", f"Invalid Value: orderBy key {field!r} is not supported")
        out.sort(key=_sort_key(field), reverse=direction == "desc")
    return out


def _encode_token(bound: str, offset: int) -> str:
    raw = json.dumps({"b": bound, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, bound: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        offset = int(data["o"])
        same = data["b"] == bound
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise invalid_value("pageToken") from exc
    if not same or offset < 0:
        raise invalid_value("pageToken")
    return offset


def _page_size(req: Request, default: int, maximum: int) -> int:
    text = req.param("pageSize")
    if text is None:
        return default
    try:
        size = int(text)
    except ValueError as exc:
        raise invalid_value("pageSize") from exc
    if size < 1:
        raise invalid_value("pageSize")
    return min(size, maximum)


@handler("drive.files.list")
def list_files(req: Request) -> dict[str, Any]:
    """files.list: a `q` subset, orderBy name/createdTime/modifiedTime, pages, corpora."""
    corpora = req.param("corpora") or "user"
    if corpora not in ("user", "domain", "drive", "allDrives"):
        raise invalid_value("corpora")
    if corpora == "drive" and not req.param("driveId"):
        raise DriveError(
            400, "The driveId parameter must be specified when corpora is drive.", "badRequest"
        )
    if corpora in ("drive", "allDrives") and not _flag(req, "includeItemsFromAllDrives"):
        raise DriveError(
            403,
            "The includeItemsFromAllDrives parameter must be set to true when corpora is "
            f"{corpora}.",
            "teamDriveRequired",
        )
    if corpora == "drive":
        # The emulator models no shared drives, so a shared drive's corpus is always empty.
        records: list[dict[str, Any]] = []
    else:
        terms = parse_query(req.param("q") or "")
        records = [r for key in req.tx.keys(FILES) if (r := req.tx.get(FILES, key)) is not None]
        records = [r for r in records if _matches(r, terms)]
    order_by = req.param("orderBy") or ""
    records = _order(records, order_by)
    size = _page_size(req, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    bound = "\n".join([req.param("q") or "", order_by, corpora])
    token = req.param("pageToken")
    offset = _decode_token(token, bound) if token else 0
    page = records[offset : offset + size]
    result: dict[str, Any] = {
        "kind": "drive#fileList",
        "incompleteSearch": False,
        "files": [_shape(r, req, DEFAULT_FILE_FIELDS) for r in page],
    }
    if offset + size < len(records):
        result["nextPageToken"] = _encode_token(bound, offset + size)
    return result


# --- permissions -------------------------------------------------------------------------


def _permission_id(body: dict[str, Any]) -> str:
    """Stable ids per grantee, in the style of Drive's (numeric for people and domains)."""
    if body["type"] == "anyone":
        return "anyone" if body.get("allowFileDiscovery") else "anyoneWithLink"
    grantee = str(body.get("emailAddress") or body.get("domain") or "").lower()
    digest = hashlib.sha256(grantee.encode()).hexdigest()
    return str(int(digest[:15], 16))


@handler("drive.permissions.create")
def create_permission(req: Request) -> dict[str, Any]:
    """permissions.create: user/group need emailAddress, domain needs domain; owner needs
    transferOwnership; a second grant to the same grantee replaces the first."""
    file_id = req.path_params["fileId"]
    record = _load(req.tx, file_id)
    body = req.body if isinstance(req.body, dict) else {}
    kind, role = body.get("type"), body.get("role")
    if kind not in TYPES:
        raise DriveError(
            400, "The permission type field is required.", "required", "permission.type"
        )
    if role not in ROLES:
        raise DriveError(
            400, "The permission role field is required.", "required", "permission.role"
        )
    if kind in ("user", "group") and not body.get("emailAddress"):
        raise DriveError(
            400,
            "The permission emailAddress field is required for this type.",
            "required",
            "permission.emailAddress",
        )
    if kind == "domain" and not body.get("domain"):
        raise DriveError(
            400,
            "The permission domain field is required for this type.",
            "required",
            "permission.domain",
        )
    if role in ("organizer", "fileOrganizer"):
        # These roles exist only on shared drives, which the emulator does not model.
        raise DriveError(
            403, "This role is only valid for shared drive items.", "invalidSharingRequest"
        )
    if role == "owner":
        if kind != "user":
            raise DriveError(
                403, "Only a user can be the owner of a file.", "invalidSharingRequest"
            )
        if not _flag(req, "transferOwnership"):
            raise DriveError(
                403,
                "The transferOwnership parameter must be enabled when the permission role is "
                "'owner'.",
                "forbidden",
            )
    notify = req.param("sendNotificationEmail")
    # sendNotificationEmail "is not allowed for other requests" than users and groups, and "must
    # not be disabled for ownership transfers" (permissions.create reference).
    if (kind in ("domain", "anyone") and notify is not None) or (
        role == "owner" and notify == "false"
    ):
        raise DriveError(
            400,
            "sendNotificationEmail is not allowed for this permission.",
            "badRequest",
            "sendNotificationEmail",
        )
    permission: dict[str, Any] = {
        "kind": "drive#permission",
        "id": _permission_id(body),
        "type": kind,
        "role": role,
    }
    if kind in ("user", "group"):
        permission["emailAddress"] = str(body["emailAddress"])
    if kind == "domain":
        permission["domain"] = str(body["domain"])
    if kind in ("domain", "anyone"):
        permission["allowFileDiscovery"] = bool(body.get("allowFileDiscovery", False))
    kept = [p for p in record["permissions"] if p["id"] != permission["id"]]
    if role == "owner":
        # Transferring ownership makes the previous owner a writer (Drive's documented effect).
        for p in kept:
            if p["role"] == "owner":
                p["role"] = "writer"
        record["owners"] = [{"kind": "drive#user", "emailAddress": permission["emailAddress"]}]
    record["permissions"] = [*kept, permission]
    req.tx.put(FILES, file_id, record)
    return _shape(permission, req, DEFAULT_PERMISSION_FIELDS)


@handler("drive.permissions.list")
def list_permissions(req: Request) -> dict[str, Any]:
    """permissions.list with pageSize (1..100) and pageToken."""
    file_id = req.path_params["fileId"]
    record = _load(req.tx, file_id)
    permissions = record["permissions"]
    size = _page_size(req, 100, 100)
    token = req.param("pageToken")
    offset = _decode_token(token, file_id) if token else 0
    page = permissions[offset : offset + size]
    result: dict[str, Any] = {
        "kind": "drive#permissionList",
        "permissions": [_shape(p, req, DEFAULT_PERMISSION_FIELDS) for p in page],
    }
    if offset + size < len(permissions):
        result["nextPageToken"] = _encode_token(file_id, offset + size)
    return result


@handler("drive.permissions.delete")
def delete_permission(req: Request) -> None:
    """permissions.delete: the owner's permission cannot be removed."""
    file_id = req.path_params["fileId"]
    record = _load(req.tx, file_id)
    permission_id = req.path_params["permissionId"]
    found = [p for p in record["permissions"] if p["id"] == permission_id]
    if not found:
        raise DriveError(404, f"Permission not found: {permission_id}.", "notFound", "permissionId")
    if found[0]["role"] == "owner":
        raise DriveError(403, "The owner of a file cannot be removed.", "cannotRemoveOwner")
    record["permissions"] = [p for p in record["permissions"] if p["id"] != permission_id]
    req.tx.put(FILES, file_id, record)


# --- about -------------------------------------------------------------------------------


@handler("drive.about.get")
def about(req: Request) -> dict[str, Any]:
    """about.get: Drive requires the `fields` parameter for this method."""
    if not req.param("fields"):
        raise DriveError(
            400, "The 'fields' parameter is required for this method.", "required", "fields"
        )
    return {
        "kind": "drive#about",
        "user": {
            "kind": "drive#user",
            "displayName": "gsync emulator",
            "emailAddress": EMULATOR_USER,
            "me": True,
            "permissionId": _permission_id({"type": "user", "emailAddress": EMULATOR_USER}),
        },
        "storageQuota": {"limit": "16106127360", "usage": "0", "usageInDrive": "0"},
        "canCreateDrives": False,
        "maxUploadSize": "5242880000000",
    }
