"""Client factories: gspread for Sheets, google-api-python-client for Forms and Drive.

With an emulator endpoint every client talks plain HTTP to it with no credentials, at Google's own
paths; otherwise to Google with the given credentials. Nothing else in the code path changes.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping, MutableMapping
from http.client import HTTPException
from typing import Any

import gspread
import httplib2
import requests
from gspread.http_client import HTTPClient, ParamsType
from requests import Response

from gsync.errors import AuthError, GoogleApiError, GsyncError, NotFoundError
from gsync.google.retry import RetryPolicy, call_with_retry

SHEETS_BASE = "https://sheets.googleapis.com"
GOOGLEAPIS_BASE = "https://www.googleapis.com"
TIMEOUT_S = 120.0


def emulator_endpoint(host: str) -> str:
    """`host:port` (the *_EMULATOR_HOST convention) or a URL → `http://host:port`."""
    host = host.strip().rstrip("/")
    if host.startswith(("http://", "https://")):
        return host
    return f"http://{host}"


def http_status(exc: BaseException) -> int | None:
    """HTTP status of a failed call, 0 for a connection-level failure, None if not retryable."""
    if isinstance(exc, gspread.exceptions.APIError):
        return int(exc.response.status_code)
    from googleapiclient.errors import HttpError

    if isinstance(exc, HttpError):
        return int(exc.resp.status)
    if isinstance(
        exc,
        ConnectionError
        | TimeoutError
        | socket.timeout
        | HTTPException
        | requests.ConnectionError
        | requests.Timeout,
    ):
        return 0
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | httplib2.HttpLib2Error):
        return 0
    return None


class GsyncHTTPClient(HTTPClient):
    """gspread's HTTP client with gsync's bounded retry, pointed at the emulator when asked.

    gspread copies its URL constants at import, so patching gspread.urls does nothing; rewriting
    the URL here is the supported seam (DESIGN.md, "gspread 6.x").
    """

    endpoint: str | None = None
    policy: RetryPolicy | None = None

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> Response:
        url = endpoint
        if self.endpoint:
            for base in (SHEETS_BASE, GOOGLEAPIS_BASE):
                if url.startswith(base):
                    url = self.endpoint + url[len(base) :]
                    break

        def once() -> Response:
            return super(GsyncHTTPClient, self).request(
                method, url, params, data, json, files, headers
            )

        return call_with_retry(
            once, what=f"sheets {method.upper()}", status_of=http_status, policy=self.policy
        )


def sheets_client(
    credentials: Any, endpoint: str | None, policy: RetryPolicy | None = None
) -> gspread.Client:
    """A gspread client; `endpoint` (emulator) means plain HTTP and no credentials."""

    class _Bound(GsyncHTTPClient):
        pass

    _Bound.endpoint = endpoint
    _Bound.policy = policy
    if endpoint:
        client = gspread.Client(auth=None, session=requests.Session(), http_client=_Bound)  # type: ignore[arg-type]
    else:
        client = gspread.Client(auth=credentials, http_client=_Bound)
    client.set_timeout(TIMEOUT_S)
    return client


class _EmulatorHttp(httplib2.Http):
    """Plain HTTP to the emulator: google-api-python-client builds media-upload URLs from the
    discovery document's https root, swapping only the host, so the scheme is put right here."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(timeout=int(TIMEOUT_S))
        self._https = "https://" + endpoint.split("://", 1)[-1]
        self._http = endpoint

    def request(self, uri: str, *args: Any, **kwargs: Any) -> Any:
        if uri.startswith(self._https):
            uri = self._http + uri[len(self._https) :]
        return super().request(uri, *args, **kwargs)


def discovery_service(api: str, version: str, credentials: Any, endpoint: str | None) -> Any:
    """A google-api-python-client Resource built from the discovery document shipped offline."""
    from googleapiclient.discovery import build

    if endpoint:
        # Drive's servicePath is "drive/v3/"; an api_endpoint replaces rootUrl + servicePath.
        api_endpoint = endpoint + ("/drive/v3/" if api == "drive" else "/")
        return build(
            api,
            version,
            http=_EmulatorHttp(endpoint),
            client_options={"api_endpoint": api_endpoint},
            static_discovery=True,
            cache_discovery=False,
        )
    return build(
        api, version, credentials=credentials, static_discovery=True, cache_discovery=False
    )


def google_error_body(exc: BaseException) -> tuple[int | None, str, str]:
    """(status, Google's message, Google's status/reason) from a client exception."""
    status = http_status(exc)
    raw: Any = None
    if isinstance(exc, gspread.exceptions.APIError):
        raw = exc.response.text
    else:
        raw = getattr(exc, "content", None)
    message, reason = str(exc), ""
    if raw:
        try:
            body = json.loads(raw)
            err = body.get("error", {}) if isinstance(body, dict) else {}
            if isinstance(err, dict):
                message = str(err.get("message", message))
                reason = str(err.get("status", ""))
                for detail in err.get("details", []) or []:
                    if isinstance(detail, dict) and detail.get("reason"):
                        reason = str(detail["reason"])
                for item in err.get("errors", []) or []:
                    if isinstance(item, dict) and item.get("reason") and not reason:
                        reason = str(item["reason"])
        except (ValueError, TypeError):
            pass
    return status, message, reason


def translate(exc: BaseException, what: str) -> GsyncError:
    """A client exception as a GsyncError that names the problem and the fix."""
    status, message, reason = google_error_body(exc)
    if status == 0:
        return GoogleApiError(
            f"{what}: could not reach the server ({type(exc).__name__}).",
            status=None,
            fix="check the network (or that the emulator is running) and run the command again.",
        )
    if status == 401:
        return AuthError(
            f"{what}: Google refused the credentials (401: {message}).",
            fix="the token has expired or been revoked: run `gsync auth login`, or check the "
            "service-account key is current.",
        )
    if status == 403 and reason in {"SERVICE_DISABLED", "accessNotConfigured"}:
        return AuthError(
            f"{what}: the API is not enabled for this Cloud project ({message}).",
            fix="enable the Sheets, Forms and Drive APIs in Google Cloud console (APIs & Services > Library).",
        )
    if status == 403 and reason in {"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions"}:
        return AuthError(
            f"{what}: the credentials lack a scope gsync needs ({message}).",
            fix="sign in again (`gsync auth login`) or add the scopes listed in the README to the "
            "domain-wide delegation entry.",
        )
    if status == 403:
        return AuthError(
            f"{what}: permission denied ({message}).",
            fix="share the spreadsheet or form with gsync's account (the service account's email or the "
            "signed-in user) as an editor.",
        )
    if status == 404:
        return NotFoundError(
            f"{what}: not found ({message}).",
            fix="check the id in gsync.toml; the file may have been deleted or not shared with gsync.",
        )
    if status == 429:
        return GoogleApiError(
            f"{what}: Google's quota was exceeded and retries ran out ({message}).",
            status=status,
            reason=reason,
            fix="run again later, or ask for a higher quota in Google Cloud console.",
        )
    return GoogleApiError(
        f"{what}: Google answered {status}: {message}", status=status, reason=reason
    )
