"""`gsync report`: the governors' / senior leaders' report as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.cli.status_cmd import as_of_option, parse_day


@click.command("report")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("governors-report.html"),
    show_default=True,
    help="The HTML file to write (one file: charts inline, no scripts, prints to A4).",
)
@as_of_option
@common_options
@pass_app
def report(app: AppContext, out: Path, as_of: str | None) -> None:
    """Write the governors' report: destinations, trends across cohorts, deadline compliance.

    Reads the trust spreadsheet once. Uses the same suppressed, disclosure-checked figures as the
    Summary tabs (exit code 8 and nothing written on a breach), so it holds no personal data.
    For a PDF, open it in a browser and print to PDF.
    """
    from gsync.report import write_report

    result = write_report(app.workspace, app.config, out, as_of=parse_day(as_of))

    def human() -> None:
        click.echo(
            f"Wrote {result.path}: {len(result.schools)} school(s), cohorts "
            f"{', '.join(result.cohorts) or 'none'}, {result.overdue} overdue deadline(s) "
            f"as of {result.as_of.isoformat()}."
        )

    app.emit(result.as_dict(), human)
