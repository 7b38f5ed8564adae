"""`gsync summary export` and `gsync trust aggregate`: the anonymised summaries' commands."""

from __future__ import annotations

from pathlib import Path

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.cli.sync_cmd import as_of_option, parse_as_of


@click.group()
def summary() -> None:
    """Anonymised destination summaries (suppressed and disclosure-checked)."""


@summary.command("export")
@click.option(
    "--school", default=None, help="Only this school (default: every school and the trust)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "html"]),
    default="csv",
    show_default=True,
    help="csv: one file per table plus an SVG chart; html: one self-contained page.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("website"),
    show_default=True,
    help="Folder to write the files into (created if missing).",
)
@common_options
@pass_app
def summary_export(app: AppContext, school: str | None, fmt: str, out_dir: Path) -> None:
    """Write the summary tables and chart for a school website's careers page.

    Reads the trust spreadsheet once. The same suppression as the Summary tabs applies, and the
    disclosure check runs before any file is written (exit code 8 on a breach, nothing written).
    """
    from gsync.trust import export_website

    report = export_website(
        app.workspace,
        app.config,
        out_dir,
        school=school,
        fmt="html" if fmt == "html" else "csv",
    )

    def human() -> None:
        click.echo(f"Exported {', '.join(report.schools)} ({report.fmt}):")
        for path in report.files:
            click.echo(f"  {path}")

    app.emit(report.as_dict(), human)


@click.group()
def trust() -> None:
    """The trust as a whole: aggregation across the schools' own spreadsheets."""


@trust.command("aggregate")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@as_of_option
@common_options
@pass_app
def trust_aggregate(app: AppContext, dry_run: bool, as_of: str | None) -> None:
    """Aggregate every school into the trust spreadsheet's 'Trust summary' and 'Compliance' tabs.

    Reads each school's own spreadsheet (schools with spreadsheet_id) once and the trust
    spreadsheet once; writes once. A school spreadsheet that is missing, not shared with gsync or
    laid out wrongly is skipped and listed with the reason; the others still aggregate and the
    exit code stays 0. Exit code 8 if the summary fails the disclosure check (nothing written).
    """
    from gsync.trust import aggregate_trust

    report = aggregate_trust(app.workspace, app.config, dry_run=dry_run, now=parse_as_of(as_of))

    def human() -> None:
        for name, info in report.schools.items():
            click.echo(f"{name}: {info['pupils']} pupils from the {info['source']}")
        for name, why in report.skipped.items():
            click.echo(f"{name}: skipped ({why})")
        if dry_run:
            click.echo("Dry run: nothing written." + (" Would change:" if report.changes else ""))
            for change in report.changes:
                click.echo(f"  {change}")
        else:
            click.echo(
                f"Wrote {', '.join(report.tabs)}."
                if report.written
                else "Nothing changed: nothing written."
            )

    app.emit(report.as_dict(), human)
