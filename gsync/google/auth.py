"""Credentials: a service-account key (optionally with domain-wide delegation), the OAuth
installed-app flow with a 0600 token cache, or Application Default Credentials.

Every failure becomes an AuthError that names the problem and the fix. No secret is ever logged.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from pathlib import Path
from typing import Any

from gsync.config import Config
from gsync.errors import AuthError

log = logging.getLogger("gsync.auth")

#: Every OAuth scope gsync uses, declared once.
SCOPE_FORMS_BODY = "https://www.googleapis.com/auth/forms.body"
SCOPE_FORMS_RESPONSES = "https://www.googleapis.com/auth/forms.responses.readonly"
SCOPE_SHEETS = "https://www.googleapis.com/auth/spreadsheets"
SCOPE_DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"

#: What each command group needs. `open_workspace` asks for the union so one token serves all.
COMMAND_SCOPES: dict[str, tuple[str, ...]] = {
    "form": (SCOPE_FORMS_BODY, SCOPE_FORMS_RESPONSES, SCOPE_DRIVE_FILE),
    "sheet": (SCOPE_SHEETS, SCOPE_DRIVE_FILE),
    "roster": (SCOPE_SHEETS,),
    "sync": (SCOPE_SHEETS, SCOPE_FORMS_BODY, SCOPE_FORMS_RESPONSES),
    "status": (SCOPE_SHEETS,),
    "contacts": (SCOPE_SHEETS,),
    "summary": (SCOPE_SHEETS,),
    "trust": (SCOPE_SHEETS,),
    "workspace": (SCOPE_DRIVE_FILE,),
    "audit": (SCOPE_DRIVE_FILE,),
}
ALL_SCOPES: tuple[str, ...] = tuple(sorted({s for v in COMMAND_SCOPES.values() for s in v}))

DEFAULT_TOKEN_FILE = Path("~/.config/gsync/token.json")


def warn_if_exposed(path: Path) -> bool:
    """Warn (and return True) when a secret file is readable by group or others."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if mode & (stat.S_IRGRP | stat.S_IROTH | stat.S_IWGRP | stat.S_IWOTH):
        log.warning(
            "%s is readable by other users (mode %o): run `chmod 600 %s`",
            path,
            stat.S_IMODE(mode),
            path,
        )
        return True
    return False


def write_private(path: Path, text: str) -> None:
    """Write a secret file created with mode 0600 (never briefly world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _read_json_key(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        raise AuthError(
            f"{what} file {path} does not exist.",
            fix="download the key from Google Cloud console (IAM > Service accounts > Keys) and set "
            "google.credentials_file in gsync.toml or GOOGLE_APPLICATION_CREDENTIALS.",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise AuthError(
            f"{what} file {path} is not a valid JSON key file.",
            fix="download a fresh JSON key; do not edit it by hand.",
        ) from None
    if not isinstance(data, dict):
        raise AuthError(
            f"{what} file {path} is not a JSON object.", fix="download a fresh JSON key."
        )
    warn_if_exposed(path)
    return data


def service_account_credentials(config: Config, scopes: tuple[str, ...]) -> Any:
    """A service account's credentials, acting for `google.subject` when delegation is set."""
    from google.oauth2 import service_account

    raw = config.google.credentials_file or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not raw:
        raise AuthError(
            "No service-account key configured.",
            fix="set google.credentials_file in gsync.toml or the GOOGLE_APPLICATION_CREDENTIALS "
            "environment variable to the key's path.",
        )
    path = config.resolve(raw)
    info = _read_json_key(path, "Service-account key")
    if info.get("type") != "service_account":
        raise AuthError(
            f"{path} is not a service-account key (its type is {info.get('type')!r}).",
            fix="use a key of type 'service_account', or set google.auth = \"oauth\" for a client-secrets file.",
        )
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=list(scopes))
    except (ValueError, KeyError):
        raise AuthError(
            f"{path} is missing fields a service-account key must have.",
            fix="download a fresh JSON key for the service account.",
        ) from None
    if config.google.subject:
        creds = creds.with_subject(config.google.subject)
    return creds


def oauth_credentials(
    config: Config, scopes: tuple[str, ...], *, interactive: bool | None = None
) -> Any:
    """A single user's credentials from the installed-app flow, cached in a 0600 token file."""
    from google.auth.exceptions import RefreshError
    from google.auth.transport.requests import Request
    from google.oauth2.credentials import Credentials

    token_path = config.resolve(config.google.token_file or str(DEFAULT_TOKEN_FILE))
    token_path = token_path.expanduser()
    creds: Any = None
    if token_path.exists():
        warn_if_exposed(token_path)
        try:
            creds = Credentials.from_authorized_user_file(str(token_path), list(scopes))
        except (ValueError, json.JSONDecodeError, OSError):
            raise AuthError(
                f"The OAuth token cache {token_path} is unreadable or malformed.",
                fix=f"delete {token_path} and run `gsync auth login` again.",
            ) from None
        # from_authorized_user_file reports the scopes asked for, not those granted: read the file.
        try:
            granted = set(json.loads(token_path.read_text(encoding="utf-8")).get("scopes") or [])
        except (OSError, ValueError, AttributeError):
            granted = set()
        if not set(scopes) <= granted:
            creds = None  # the cached token lacks a scope: consent again
    if creds is not None and not creds.valid:
        if creds.expired and creds.refresh_token:
            try:
                creds.refresh(Request())
            except RefreshError:
                raise AuthError(
                    "The OAuth token has expired or been revoked.",
                    fix="run `gsync auth login` to sign in again.",
                ) from None
            write_private(token_path, creds.to_json())
        else:
            creds = None
    if creds is None:
        if interactive is None:
            interactive = sys.stdin.isatty()
        if not interactive:
            raise AuthError(
                "No valid OAuth token and no terminal to sign in from.",
                fix="run `gsync auth login` once interactively; the nightly job then reuses the token.",
            )
        secrets_file = config.google.credentials_file
        if not secrets_file:
            raise AuthError(
                "No OAuth client-secrets file configured.",
                fix="create an OAuth client (Desktop app) in Google Cloud console, download its JSON "
                "and set google.credentials_file in gsync.toml.",
            )
        from google_auth_oauthlib.flow import InstalledAppFlow

        secrets_path = config.resolve(secrets_file)
        _read_json_key(secrets_path, "OAuth client-secrets")
        flow = InstalledAppFlow.from_client_secrets_file(str(secrets_path), list(scopes))
        creds = flow.run_local_server(port=0)
        write_private(token_path, creds.to_json())
    return creds


def adc_credentials(scopes: tuple[str, ...]) -> Any:
    """Application Default Credentials (a Cloud Run job's service account, or gcloud's login)."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        creds, _project = google.auth.default(scopes=list(scopes))
    except DefaultCredentialsError:
        raise AuthError(
            "No Application Default Credentials found.",
            fix="run `gcloud auth application-default login --scopes=...` or run where a service "
            "account is attached; or set google.auth to service_account / oauth.",
        ) from None
    return creds


def load_credentials(config: Config, scopes: tuple[str, ...] = ALL_SCOPES) -> Any:
    """Credentials for `config.google.auth` (not called for the local workspace)."""
    mode = config.google.auth
    if mode == "service_account":
        return service_account_credentials(config, scopes)
    if mode == "oauth":
        return oauth_credentials(config, scopes)
    if mode == "adc":
        return adc_credentials(scopes)
    raise AuthError(
        f"google.auth = {mode!r} needs no credentials.", fix="this is a bug in gsync; report it."
    )
