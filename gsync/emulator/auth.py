"""Simulated credential failures: make the emulator refuse requests the way Google does.

The emulator takes no credentials, so a test cannot make a token expire. Instead a test arms a
failure through the control route, and matching API requests are refused, before quotas, faults
and validation (Google checks credentials first), with the body Google sends:

    POST   /_emulator/auth   {"kind": KIND, "api": "sheets"|"forms"|"drive"|"*",
                              "file_id": optional id, "count": optional n (default: until cleared)}
    GET    /_emulator/auth   {"failures": [...]}
    DELETE /_emulator/auth   clear them (POST /_emulator/reset clears them too)

KIND is one of:
  expired_token       401 UNAUTHENTICATED "Request had invalid authentication credentials..."
  service_disabled    403 PERMISSION_DENIED with an ErrorInfo detail, reason SERVICE_DISABLED
  scope_insufficient  403 PERMISSION_DENIED with an ErrorInfo detail, reason
                      ACCESS_TOKEN_SCOPE_INSUFFICIENT
  forbidden           403 on one file: Sheets / Forms "The caller does not have permission",
                      Drive "insufficientFilePermissions"
  not_found           404 on one file: "Requested entity was not found." (Drive: "File not found")

Bodies follow the ones Google's APIs return (as quoted in public client-library issue threads,
e.g. googleapis/google-api-python-client#920, google-gemini/gemini-cli#1343, analogdotnow/Analog#296):
the gRPC-style `status` and `details[ErrorInfo]` for every API, and, for Drive v3 (a older-style
API), the `errors[]` array with `domain` / `reason` as well. The ErrorInfo `method` metadata is
the discovery method id, not Google's internal RPC name. The project number is a placeholder.
"""

from __future__ import annotations

import threading
from typing import Any

from gsync.emulator.core import ApiError, Request, control_route

KINDS = ("expired_token", "service_disabled", "scope_insufficient", "forbidden", "not_found")
APIS = ("sheets", "forms", "drive")
PROJECT_NUMBER = "123456789012"  # placeholder Cloud project in SERVICE_DISABLED messages

_SERVICES = {
    "sheets": ("sheets.googleapis.com", "Google Sheets API"),
    "forms": ("forms.googleapis.com", "Google Forms API"),
    "drive": ("drive.googleapis.com", "Google Drive API"),
}
_FILE_PARAMS = ("spreadsheetId", "formId", "fileId")

_lock = threading.Lock()
#: Armed failures by emulator base URL (one process may run several emulators).
_FAILURES: dict[str, list[dict[str, Any]]] = {}


class GoogleAuthError(ApiError):
    """An ApiError whose body is given whole (Google's auth errors carry `errors` / `details`)."""

    def __init__(self, code: int, error: dict[str, Any]) -> None:
        super().__init__(code, str(error.get("message", "")), error.get("status"))
        self._error = error

    def body(self) -> dict[str, Any]:
        return {"error": dict(self._error)}


def _error_info(reason: str, api: str, method_id: str, **extra: str) -> dict[str, Any]:
    service, _title = _SERVICES[api]
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": service, "method": method_id, **extra},
    }


def failure_body(
    kind: str, api: str, method_id: str, file_id: str | None = None
) -> GoogleAuthError:
    """The error Google answers for `kind` on a request to `api` (see the module docstring)."""
    service, title = _SERVICES[api]
    legacy = api == "drive"  # Drive v3 adds the older `errors[]` array
    if kind == "expired_token":
        error: dict[str, Any] = {
            "code": 401,
            "message": "Request had invalid authentication credentials. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential. See "
            "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            "status": "UNAUTHENTICATED",
            "details": [_error_info("ACCESS_TOKEN_EXPIRED", api, method_id)],
        }
        if legacy:
            error["errors"] = [
                {
                    "message": "Invalid Credentials",
                    "domain": "global",
                    "reason": "authError",
                    "location": "Authorization",
                    "locationType": "header",
                }
            ]
        return GoogleAuthError(401, error)
    if kind == "service_disabled":
        url = f"https://console.developers.google.com/apis/api/{service}/overview?project={PROJECT_NUMBER}"
        message = (
            f"{title} has not been used in project {PROJECT_NUMBER} before or it is disabled. "
            f"Enable it by visiting {url} then retry. If you enabled this API recently, wait a "
            "few minutes for the action to propagate to our systems and retry."
        )
        error = {
            "code": 403,
            "message": message,
            "status": "PERMISSION_DENIED",
            "details": [
                _error_info(
                    "SERVICE_DISABLED",
                    api,
                    method_id,
                    consumer=f"projects/{PROJECT_NUMBER}",
                    serviceTitle=title,
                    activationUrl=url,
                    containerInfo=PROJECT_NUMBER,
                )
            ],
        }
        if legacy:
            error["errors"] = [
                {"message": message, "domain": "usageLimits", "reason": "accessNotConfigured"}
            ]
        return GoogleAuthError(403, error)
    if kind == "scope_insufficient":
        error = {
            "code": 403,
            "message": "Request had insufficient authentication scopes.",
            "status": "PERMISSION_DENIED",
            "details": [_error_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT", api, method_id)],
        }
        if legacy:
            error["errors"] = [
                {
                    "message": "Insufficient Permission",
                    "domain": "global",
                    "reason": "insufficientPermissions",
                }
            ]
        return GoogleAuthError(403, error)
    if kind == "forbidden":
        if legacy:
            message = "The user does not have sufficient permissions for this file."
            error = {
                "code": 403,
                "message": message,
                "errors": [
                    {
                        "message": message,
                        "domain": "global",
                        "reason": "insufficientFilePermissions",
                    }
                ],
            }
        else:
            error = {
                "code": 403,
                "message": "The caller does not have permission",
                "status": "PERMISSION_DENIED",
            }
        return GoogleAuthError(403, error)
    if kind == "not_found":
        if legacy:
            message = f"File not found: {file_id or ''}."
            error = {
                "code": 404,
                "message": message,
                "errors": [
                    {
                        "message": message,
                        "domain": "global",
                        "reason": "notFound",
                        "location": "fileId",
                        "locationType": "parameter",
                    }
                ],
            }
        else:
            error = {
                "code": 404,
                "message": "Requested entity was not found.",
                "status": "NOT_FOUND",
            }
        return GoogleAuthError(404, error)
    raise ValueError(f"unknown auth failure kind {kind!r}; use one of {', '.join(KINDS)}")


def arm(
    base_url: str, kind: str, api: str = "*", file_id: str | None = None, count: int | None = None
) -> dict[str, Any]:
    """Arm a failure on the emulator at `base_url` (in-process); returns the stored rule."""
    if kind not in KINDS:
        raise ValueError(f"unknown auth failure kind {kind!r}; use one of {', '.join(KINDS)}")
    if api != "*" and api not in APIS:
        raise ValueError(f"api must be one of {', '.join(APIS)} or '*'")
    if count is not None and int(count) < 1:
        raise ValueError("count must be >= 1")
    rule: dict[str, Any] = {
        "kind": kind,
        "api": api,
        "file_id": file_id,
        "count": None if count is None else int(count),
    }
    with _lock:
        _FAILURES.setdefault(base_url, []).append(rule)
    return dict(rule)


def armed(base_url: str) -> list[dict[str, Any]]:
    """The failures armed on an emulator."""
    with _lock:
        return [dict(r) for r in _FAILURES.get(base_url, [])]


def clear(base_url: str) -> None:
    """Disarm every failure on an emulator (part of its reset)."""
    with _lock:
        _FAILURES.pop(base_url, None)


def denial(base_url: str, api: str, method_id: str, path_params: dict[str, str]) -> ApiError | None:
    """The error to answer instead of running this request, or None (the server's hook)."""
    if not _FAILURES:  # the common case: nothing armed anywhere, no lock taken
        return None
    with _lock:
        rules = _FAILURES.get(base_url)
        if not rules:
            return None
        ids = {path_params[p] for p in _FILE_PARAMS if p in path_params}
        for rule in rules:
            if rule["api"] not in ("*", api):
                continue
            if rule["file_id"] is not None and rule["file_id"] not in ids:
                continue
            if rule["count"] is not None:
                rule["count"] -= 1
                if rule["count"] <= 0:
                    rules.remove(rule)
            if not rules:
                _FAILURES.pop(base_url, None)
            return failure_body(rule["kind"], api, method_id, rule["file_id"])
    return None


@control_route("POST", r"/_emulator/auth")
def _arm_route(req: Request) -> dict[str, Any]:
    body = req.body if isinstance(req.body, dict) else {}
    if "kind" not in body:
        raise ValueError("'kind' is required")
    arm(
        req.base_url,
        str(body["kind"]),
        api=str(body.get("api") or "*"),
        file_id=str(body["file_id"]) if body.get("file_id") else None,
        count=body.get("count"),
    )
    return {"failures": armed(req.base_url)}


@control_route("GET", r"/_emulator/auth")
def _list_route(req: Request) -> dict[str, Any]:
    return {"failures": armed(req.base_url)}


@control_route("DELETE", r"/_emulator/auth")
def _clear_route(req: Request) -> dict[str, Any]:
    clear(req.base_url)
    return {}


def arm_over_http(
    client: Any, kind: str, api: str = "*", file_id: str | None = None, count: int | None = None
) -> dict[str, Any]:
    """Arm a failure through an `EmulatorClient` (or anything with `.url` and `.session`)."""
    body: dict[str, Any] = {"kind": kind, "api": api}
    if file_id is not None:
        body["file_id"] = file_id
    if count is not None:
        body["count"] = count
    response = client.session.post(f"{client.url}/_emulator/auth", json=body, timeout=30)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def clear_over_http(client: Any) -> None:
    """Disarm every failure through an `EmulatorClient`."""
    client.session.delete(f"{client.url}/_emulator/auth", timeout=30).raise_for_status()
