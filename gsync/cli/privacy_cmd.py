"""`gsync purge`, `gsync subject export` and `gsync subject erase`: retention and pupils' rights."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.errors import ConfigError


def _day(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--as-of {value!r} is not a date.", fix="use YYYY-MM-DD, e.g. 2029-09-01."
        ) from None


def _report_lines(data: dict[str, Any]) -> None:
    verb = "Would change" if data["dry_run"] else "Changed"
    click.echo(
        f"{verb}: {data['pupils']} pupil(s), {data['responses']} logged response(s), "
        f"{data['cells']} cell(s) cleared, {data['rows_deleted']} row(s) deleted."
    )
    for reason, n in sorted(data.get("reasons", {}).items()):
        click.echo(f"  {reason.replace('_', ' ')}: {n}")
    if data["form_responses_to_delete"]:
        click.echo(
            "The forms still hold these responses (the Forms API cannot delete them; delete them "
            "in each form's Responses tab). gsync will not read them again:"
        )
        for rid in data["form_responses_to_delete"]:
            click.echo(f"  {rid}")
    if data["dry_run"]:
        click.echo("Dry run: nothing written.")


@click.command("purge")
@click.option("--as-of", "as_of", default=None, metavar="DATE", help="Purge as if today were DATE.")
@click.option(
    "--tracking-years",
    type=int,
    default=3,
    show_default=True,
    help="Years leavers are tracked before their personal details are removed.",
)
@click.option(
    "--keep-names",
    is_flag=True,
    help="Keep leavers' names and dates of birth (remove only contact details and notes).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be removed; write nothing.")
@common_options
@pass_app
def purge(
    app: AppContext, as_of: str | None, tracking_years: int, keep_names: bool, dry_run: bool
) -> None:
    """Remove personal data gsync no longer needs (retention policy).

    Leavers past their tracking period lose names, date of birth, emails, phone and notes;
    pupils who withdrew consent lose their personal email and phone. Anonymised figures are
    kept (the Summary tabs do not change). Each purge is logged, without personal data, in the
    hidden _gsync_privacy tab.
    """
    from gsync.privacy import purge as run_purge

    report = run_purge(
        app.workspace,
        app.config,
        as_of=_day(as_of),
        tracking_years=tracking_years,
        names=not keep_names,
        dry_run=dry_run,
    )
    data = report.as_dict()
    app.emit(data, lambda: _report_lines(data))


@click.group()
def subject() -> None:
    """One pupil's data: right of access (export) and right to erasure (erase)."""


def _write_private(path: Path, text: str) -> None:
    """Create (or truncate) `path` readable by its owner only: it holds personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


@subject.command("export")
@click.option("--upn", required=True, help="The pupil's UPN.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file to write (mode 0600); '-' prints to stdout.",
)
@common_options
@pass_app
def subject_export(app: AppContext, upn: str, out: Path) -> None:
    """Everything gsync holds about one pupil, as JSON (a subject access request)."""
    from gsync.privacy import export_json, subject_data

    text = export_json(subject_data(app.workspace, app.config, upn))
    if str(out) == "-":
        click.echo(text)
        return
    _write_private(out, text + "\n")
    click.echo(f"Wrote the pupil's data to {out} (readable by you only).")


@subject.command("erase")
@click.option("--upn", required=True, help="The pupil's UPN.")
@click.option("--dry-run", is_flag=True, help="Print what would be erased; write nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@common_options
@pass_app
def subject_erase(app: AppContext, upn: str, dry_run: bool, yes: bool) -> None:
    """Erase one pupil everywhere gsync wrote them (right to erasure).

    Their rows go from Destinations, Contacts, Sustained and Exceptions; their logged responses
    keep only the response id, so the sync never reads them back. Logged without personal data.
    """
    from gsync.privacy import erase_subject

    if not dry_run and not yes and not app.json:
        click.confirm("Erase this pupil's data from the trust spreadsheet?", abort=True)
    report = erase_subject(app.workspace, app.config, upn, dry_run=dry_run)
    data = report.as_dict()
    app.emit(data, lambda: _report_lines(data))
