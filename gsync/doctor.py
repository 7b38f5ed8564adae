"""`gsync doctor`: check the configuration, the credentials and access to every API and file.

Each check gives a status (ok / warn / fail / skip), one line of detail and, on failure, the exact
fix. The calls are the cheapest each API offers: Drive `about.get(fields="user")`, a Sheets
`spreadsheets.get` of the trust spreadsheet's tab titles (then its hidden state tab, for the
template version), and Forms `forms.get` of each school's form. Nothing printed carries a secret
or personal data: not the signed-in user's address (Drive's `about.user` is never shown), not a
token, not a key.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from gsync.config import DEFAULT_CONFIG, Config, load_config
from gsync.deadlines import academic_year_key, academic_year_of
from gsync.errors import GsyncError
from gsync.google.auth import ALL_SCOPES, DEFAULT_TOKEN_FILE
from gsync.google.clients import google_error_body, http_status, translate
from gsync.google.retry import call_with_retry
from gsync.setup import token_missing_scopes

Status = Literal["ok", "warn", "fail", "skip"]

#: Reasons that mean "this API cannot be used at all" (rather than "this one file").
_API_REASONS = frozenset(
    {
        "SERVICE_DISABLED",
        "accessNotConfigured",
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "insufficientPermissions",
    }
)
_API_TITLES = {
    "drive": "Google Drive API",
    "sheets": "Google Sheets API",
    "forms": "Google Forms API",
}


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass
class DoctorReport:
    """Every check, in the order run."""

    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str, fix: str | None = None) -> Check:
        check = Check(name, status, detail, fix)
        self.checks.append(check)
        return check

    def count(self, status: Status) -> int:
        return sum(1 for c in self.checks if c.status == status)

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings do not fail the doctor)."""
        return self.count("fail") == 0

    @property
    def exit_code(self) -> int:
        """0 when nothing failed, else 1 (README, exit codes)."""
        return 0 if self.ok else 1

    def summary(self) -> str:
        verdict = "gsync is ready" if self.ok else "gsync is not ready"
        return (
            f"{self.count('ok')} ok, {self.count('warn')} warning(s), {self.count('fail')} failed, "
            f"{self.count('skip')} skipped: {verdict}."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "counts": {s: self.count(s) for s in ("ok", "warn", "fail", "skip")},
            "checks": [asdict(c) for c in self.checks],
        }


@dataclass(frozen=True)
class _Failure:
    """A refused API call, sorted into 'the API is unusable' or 'this file is out of reach'."""

    status: int | None
    reason: str
    message: str
    fix: str | None
    api_level: bool


def _call(fn: Callable[[], Any], what: str, policy: Any = None) -> tuple[Any, _Failure | None]:
    """Run one client call with gsync's bounded retry; a refusal becomes a _Failure."""
    try:
        return call_with_retry(fn, what=what, status_of=http_status, policy=policy), None
    except GsyncError as exc:
        return None, _Failure(None, "", exc.message, exc.fix, True)
    except Exception as exc:
        status = http_status(exc)
        if status is None:
            raise
        _status, _message, reason = google_error_body(exc)
        err = translate(exc, what)
        api_level = status in (0, 401) or reason in _API_REASONS
        return None, _Failure(status, reason, err.message, err.fix, api_level)


def _api_fix(api: str, failure: _Failure) -> str | None:
    if failure.reason in ("SERVICE_DISABLED", "accessNotConfigured"):
        return (
            f"enable the {_API_TITLES[api]} for gsync's Cloud project in Google Cloud console "
            "(APIs & Services > Library), wait a few minutes, then run `gsync doctor` again."
        )
    return failure.fix


def _exposed(path: Path) -> bool:
    try:
        return bool(stat.S_IMODE(path.stat().st_mode) & 0o077)
    except OSError:
        return False


def _private_file(report: DoctorReport, name: str, path: Path, what: str, missing_fix: str) -> bool:
    """A secret file must exist and be readable by its owner only."""
    if not path.exists():
        report.add(name, "fail", f"{what} {path} does not exist.", missing_fix)
        return False
    if _exposed(path):
        mode = stat.S_IMODE(path.stat().st_mode)
        report.add(
            name,
            "fail",
            f"{what} {path} is readable or writable by other users (mode {mode:o}).",
            f"run `chmod 600 {path}`.",
        )
        return False
    report.add(name, "ok", f"{what} {path} exists and only its owner can read it.")
    return True


# --- the checks ---------------------------------------------------------------------------------


def check_config(
    report: DoctorReport, config_path: str | Path | None, today: dt.date
) -> Config | None:
    """The configuration file: valid, its schools, term dates for the current academic year."""
    try:
        config = load_config(config_path)
    except GsyncError as exc:
        report.add("config", "fail", exc.message, exc.fix)
        return None
    names = ", ".join(s.name for s in config.schools)
    report.add("config", "ok", f"{config.path}: valid; {len(config.schools)} school(s): {names}.")
    key = academic_year_key(academic_year_of(today))
    if key in config.term_dates:
        report.add("term dates", "ok", f"term dates for the current academic year {key} are set.")
    else:
        report.add(
            "term dates",
            "warn",
            f"no term dates for the current academic year {key}: deadlines use gsync's default "
            "estimate.",
            f'add [term_dates."{key}"] to {config.path} with your local authority\'s published dates.',
        )
    return config


def check_credentials(report: DoctorReport, config: Config, emulator_host: str) -> tuple[str, Any]:
    """Which backend this run would use, and its credentials. Returns (kind, credentials)."""
    mode = config.google.auth
    if emulator_host:
        report.add("backend", "ok", f"emulator at {emulator_host} (GSYNC_EMULATOR_HOST is set).")
        report.add(
            "credentials",
            "skip",
            f"google.auth = {mode!r} is not used: the emulator takes no credentials.",
        )
        return "emulator", None
    if mode == "local":
        state = config.resolve(config.workspace.state_dir)
        report.add("backend", "ok", f"embedded local workspace ({state}).")
        report.add("credentials", "ok", 'google.auth = "local": no Google account is needed.')
        return "local", None
    report.add("backend", "ok", f"Google Workspace (google.auth = {mode!r}).")
    from gsync.google import auth

    scopes = " ".join(s.rsplit("/", 1)[-1] for s in ALL_SCOPES)
    try:
        if mode == "service_account":
            raw = config.google.credentials_file or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
            if not raw:
                report.add(
                    "credentials",
                    "fail",
                    "no service-account key configured.",
                    "set google.credentials_file in gsync.toml (or GOOGLE_APPLICATION_CREDENTIALS) "
                    "to the key's path.",
                )
                return "google", None
            if not _private_file(
                report,
                "key file",
                config.resolve(raw),
                "service-account key",
                "download a JSON key (Google Cloud console, IAM > Service accounts > Keys) and "
                "set google.credentials_file to its path.",
            ):
                return "google", None
            creds = auth.service_account_credentials(config, ALL_SCOPES)
            how = (
                "acting for google.subject through domain-wide delegation"
                if config.google.subject
                else "acting as itself (files must be shared with it, or live in a Shared Drive)"
            )
            report.add("credentials", "ok", f"service account key loaded, {how}.")
            report.add(
                "scopes",
                "ok",
                f"gsync requests: {scopes}"
                + (
                    "; the Admin console's domain-wide delegation entry must list each of them."
                    if config.google.subject
                    else "."
                ),
            )
            return "google", creds
        if mode == "oauth":
            secrets = config.google.credentials_file
            if not secrets:
                report.add(
                    "credentials",
                    "fail",
                    "no OAuth client-secrets file configured.",
                    "create an OAuth client (Desktop app) in Google Cloud console and set "
                    "google.credentials_file to its JSON file.",
                )
                return "google", None
            if not _private_file(
                report,
                "client secrets",
                config.resolve(secrets),
                "OAuth client-secrets file",
                "download the OAuth client's JSON from Google Cloud console (APIs & Services > "
                "Credentials) and set google.credentials_file to its path.",
            ):
                return "google", None
            token = config.resolve(config.google.token_file or str(DEFAULT_TOKEN_FILE)).expanduser()
            if not _private_file(
                report, "token", token, "OAuth token cache", "run `gsync auth login` once."
            ):
                return "google", None
            missing = [s.rsplit("/", 1)[-1] for s in token_missing_scopes(token, ALL_SCOPES)]
            if missing:
                report.add(
                    "scopes",
                    "fail",
                    f"the signed-in token lacks: {' '.join(missing)}.",
                    "run `gsync auth login --force` to consent to every scope gsync needs.",
                )
                return "google", None
            report.add("scopes", "ok", f"the token grants every scope gsync needs: {scopes}.")
            creds = auth.oauth_credentials(config, ALL_SCOPES, interactive=False)
            report.add("credentials", "ok", "OAuth token valid (refreshed if it had expired).")
            return "google", creds
        creds = auth.adc_credentials(ALL_SCOPES)
        report.add("credentials", "ok", "Application Default Credentials found.")
        report.add("scopes", "ok", f"gsync requests: {scopes}.")
        return "google", creds
    except GsyncError as exc:
        report.add("credentials", "fail", exc.message, exc.fix)
        return "google", None


def check_drive(report: DoctorReport, ws: Any) -> None:
    """Drive: `about.get(fields="user")`, the cheapest authenticated call (the user is not shown)."""
    _result, failure = _call(
        lambda: ws.drive().about().get(fields="user").execute(num_retries=0),
        "Drive about.get",
        ws.policy,
    )
    if failure is None:
        report.add("Drive API", "ok", "reachable and enabled.")
    else:
        report.add("Drive API", "fail", failure.message, _api_fix("drive", failure))


def check_sheets(report: DoctorReport, ws: Any, config: Config) -> None:
    """Sheets: the trust spreadsheet's tabs, then its template version from the state tab."""
    from gspread.urls import SPREADSHEET_URL

    from gsync.errors import ConfigError
    from gsync.sheetio import READ_FIELDS, STATE_TAB, WRITE_IN_PROGRESS, parse_snapshot
    from gsync.sync import check_template, load_template

    sid = config.trust.spreadsheet_id
    if not sid:
        report.add("Sheets API", "skip", "no trust spreadsheet to test against.")
        report.add(
            "trust spreadsheet",
            "fail",
            "not created yet (trust.spreadsheet_id is empty).",
            "run `gsync sheet init` (or `gsync init --create`), or set trust.spreadsheet_id.",
        )
        return
    client = ws.sheets().http_client

    def get(params: dict[str, str]) -> Any:
        return client.request("get", SPREADSHEET_URL % sid, params=params).json()

    body, failure = _call(
        lambda: get({"fields": "properties.title,sheets.properties.title"}),
        "Sheets spreadsheets.get",
    )
    if failure is not None:
        if failure.api_level:
            report.add("Sheets API", "fail", failure.message, _api_fix("sheets", failure))
            report.add("trust spreadsheet", "skip", "the Sheets API is not usable.")
        else:
            report.add("Sheets API", "ok", "reachable and enabled.")
            report.add("trust spreadsheet", "fail", failure.message, failure.fix)
        return
    report.add("Sheets API", "ok", "reachable and enabled.")
    tabs = [s.get("properties", {}).get("title", "") for s in body.get("sheets", [])]
    report.add("trust spreadsheet", "ok", f"{sid} is reachable ({len(tabs)} tabs).")
    if STATE_TAB in tabs:
        state_body, failure = _call(
            lambda: get(
                {"includeGridData": "true", "ranges": f"'{STATE_TAB}'", "fields": READ_FIELDS}
            ),
            "Sheets spreadsheets.get",
        )
        if failure is not None:
            report.add("template", "fail", failure.message, failure.fix)
            return
        snapshot = parse_snapshot(sid, state_body)
    else:
        snapshot = parse_snapshot(sid, {})
    template = load_template(config)
    try:
        check_template(snapshot, template)
    except ConfigError as exc:
        report.add("template", "fail", exc.message, exc.fix)
        return
    report.add("template", "ok", f"the spreadsheet carries template version {template.version}.")
    unfinished = snapshot.state.get(WRITE_IN_PROGRESS)
    if unfinished:  # a write in several parts stopped part-way (sheetio.apply_plan)
        report.add(
            "last write",
            "warn",
            f"a write too large for one request stopped after {unfinished}; every row is whole, "
            "but the tabs are not yet all up to date.",
            "run `gsync sync`: it completes the write (nothing is lost).",
        )


def check_forms(report: DoctorReport, ws: Any, config: Config) -> None:
    """Forms: `forms.get` on each school's form; published and accepting responses."""
    forms = DoctorReport()  # per-school lines, reported after the API's own line
    api_usable: bool | None = None
    api_failure: _Failure | None = None
    for school in config.schools:
        name = f"form {school.name}"
        create_fix = f"run `gsync form create --school {school.name}`."
        if not school.form_id:
            forms.add(name, "fail", "no Form A yet (form_id is empty).", create_fix)
            continue
        form_id = school.form_id

        def get(form_id: str = form_id) -> Any:
            return ws.forms().forms().get(formId=form_id).execute(num_retries=0)

        form, failure = _call(get, "Forms forms.get", ws.policy)
        if failure is not None and failure.api_level:
            api_usable, api_failure = False, failure
            forms.add(name, "skip", "the Forms API is not usable.")
            continue
        if api_usable is None:
            api_usable = True
        if failure is not None:
            fix = failure.fix
            if failure.status == 404:
                fix = f"{failure.fix} To make a new one, remove form_id and {create_fix}"
            forms.add(name, "fail", failure.message, fix)
            continue
        state = (form.get("publishSettings") or {}).get("publishState")
        items = len(form.get("items", []))
        if state is None or (state.get("isPublished") and state.get("isAcceptingResponses")):
            forms.add(name, "ok", f"{form_id}: {items} items, published, accepting responses.")
            continue
        what = (
            "is not published"
            if not state.get("isPublished")
            else "is published but not accepting responses"
        )
        forms.add(
            name,
            "fail",
            f"{form_id} {what}: leavers cannot answer it.",
            "open the form in Google Forms and press Publish, with 'Accepting responses' on "
            "(forms made through the API start unpublished).",
        )
    if api_failure is not None:
        report.add("Forms API", "fail", api_failure.message, _api_fix("forms", api_failure))
    elif api_usable:
        report.add("Forms API", "ok", "reachable and enabled.")
    else:
        report.add("Forms API", "skip", "no school has a form to test against.")
    report.checks.extend(forms.checks)


def run_doctor(
    config_path: str | Path | None = None,
    *,
    today: dt.date | None = None,
    env: Mapping[str, str] | None = None,
) -> DoctorReport:
    """Run every check; never raises for a problem it can report (the report says what failed)."""
    from gsync.workspace import (
        ENV_EMULATOR_HOST,
        Workspace,
        open_local_workspace,
        workspace_for_endpoint,
    )

    today = today or dt.date.today()
    env = os.environ if env is None else env
    report = DoctorReport()
    config = check_config(report, config_path or DEFAULT_CONFIG, today)
    if config is None:
        report.add("google", "skip", "the remaining checks need a valid configuration.")
        return report
    host = env.get(ENV_EMULATOR_HOST, "").strip()
    kind, creds = check_credentials(report, config, host)
    ws: Workspace
    if kind == "emulator":
        ws = workspace_for_endpoint(host)
    elif kind == "local":
        try:
            ws = open_local_workspace(config)
        except OSError as exc:
            report.add(
                "backend",
                "fail",
                f"could not open the local workspace ({type(exc).__name__}).",
                f"check {config.workspace.state_dir} is writable.",
            )
            return report
    elif creds is None:
        report.add("google", "skip", "API checks need working credentials.")
        return report
    else:
        ws = Workspace(kind="google", credentials=creds)
    try:
        check_drive(report, ws)
        check_sheets(report, ws, config)
        check_forms(report, ws, config)
    finally:
        ws.close()
    return report
