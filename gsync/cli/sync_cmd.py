"""`gsync sheet init`, `gsync roster import` and `gsync sync`: the trust spreadsheet's commands."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.errors import ConfigError


def parse_as_of(value: str | None) -> dt.datetime | None:
    """--as-of DATE (YYYY-MM-DD) as the run's clock: noon UTC that day."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--as-of {value!r} is not a date.", fix="use YYYY-MM-DD, e.g. 2026-09-15."
        ) from None
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)


as_of_option = click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Run as if today were DATE (YYYY-MM-DD): for catching up and for rehearsals.",
)


@click.group()
def sheet() -> None:
    """The trust's 'CEIAG Metrics & Destinations' spreadsheet."""


@sheet.command("init")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@common_options
@pass_app
def sheet_init(app: AppContext, dry_run: bool) -> None:
    """Create the trust spreadsheet from the template, or upgrade it in place.

    Adds missing tabs and columns (frozen headers, drop-downs, warning-only protection of the
    columns gsync writes, highlighting of what needs attention); never drops or moves data.
    """
    from gsync.sync import init_sheet

    result = init_sheet(app.workspace, app.config, dry_run=dry_run)
    data = {
        "spreadsheet_id": result.spreadsheet_id,
        "created": result.created,
        "tabs_added": result.tabs_added,
        "columns_added": result.columns_added,
        "template_version": result.template_version,
        "previous_version": result.previous_version,
        "dry_run": dry_run,
        "changes": result.changes,
    }

    def human() -> None:
        verb = "Would" if dry_run else "Did"
        if result.created:
            click.echo(
                f"{'Would create' if dry_run else 'Created'} the trust spreadsheet {result.spreadsheet_id}"
            )
        if not result.changes:
            click.echo(
                f"The spreadsheet is up to date (template version {result.template_version})."
            )
        for change in result.changes:
            click.echo(f"{verb}: {change}")

    app.emit(data, human)


@click.group()
def roster() -> None:
    """The school roster (an MIS export) behind the Destinations tab."""


@roster.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--school", required=True, help="The school the roster belongs to (as named in gsync.toml)."
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Use COLUMN of the file for FIELD (e.g. --map upn='Pupil UPN'); repeatable.",
)
@click.option(
    "--leaving-year",
    type=int,
    default=None,
    help="Leaving year of every pupil in the file, when it has no such column.",
)
@click.option("--dry-run", is_flag=True, help="Validate and print the counts; write nothing.")
@common_options
@pass_app
def roster_import(
    app: AppContext,
    file: Path,
    school: str,
    mapping: tuple[str, ...],
    leaving_year: int | None,
    dry_run: bool,
) -> None:
    """Import FILE (CSV from SIMS, Arbor, Bromcom...) into Destinations.

    All or nothing: any bad row (invalid UPN or check letter, impossible date, duplicate) is
    reported by row number and nothing is written. Re-importing updates pupils in place.
    """
    from gsync.sync import import_roster

    pairs: dict[str, str] = {}
    for item in mapping:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(
                f"--map {item!r} is not FIELD=COLUMN.", fix="e.g. --map upn='Pupil UPN'."
            )
        pairs[field.strip()] = column.strip()
    report = import_roster(
        app.workspace,
        app.config,
        file,
        school,
        mapping=pairs or None,
        leaving_year=leaving_year,
        dry_run=dry_run,
    )
    data = {
        "school": report.school,
        "rows": report.rows,
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "written": report.written,
        "dry_run": dry_run,
    }

    def human() -> None:
        click.echo(
            f"{report.school}: {report.rows} pupils read; {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged" + (" (dry run: nothing written)" if dry_run else "")
        )

    app.emit(data, human)


@click.command("sync")
@click.option("--school", default=None, help="Only this school (default: every school).")
@click.option("--dry-run", is_flag=True, help="Print the changes it would make; write nothing.")
@as_of_option
@common_options
@pass_app
def sync(app: AppContext, school: str | None, dry_run: bool, as_of: str | None) -> None:
    """Bring the trust spreadsheet up to date with every school's Form A responses.

    Reads the spreadsheet once and each form's responses, and writes once (one atomic
    batchUpdate); a run with nothing new writes nothing. Exit code 5 if another run wrote
    in the meantime (run again; nothing is lost).
    """
    from gsync.progress import Progress
    from gsync.sync import run_sync

    total = 1 if school else len(app.config.schools)
    with Progress("Syncing", total=total, unit="schools", quiet=app.json) as bar:
        report = run_sync(
            app.workspace,
            app.config,
            school=school,
            dry_run=dry_run,
            now=parse_as_of(as_of),
            on_school=lambda name: bar.advance(detail=name),
        )

    def human() -> None:
        for name, counts in report.schools.items():
            click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for name, why in report.skipped.items():
            click.echo(f"{name}: skipped ({why})")
        for name, why in report.unread.items():
            click.echo(f"{name}: own spreadsheet not read ({why}); its figures are left out")
        if dry_run:
            click.echo(
                "Dry run: nothing written. Would change:"
                if report.changes
                else "Dry run: nothing to change."
            )
            for change in report.changes:
                click.echo(f"  {change}")
        else:
            click.echo(
                "Spreadsheet updated." if report.written else "Nothing new: nothing written."
            )

    app.emit(report.as_dict(), human)
