"""`gsync export --xlsx FILE`: the whole trust spreadsheet as one XLSX file."""

from __future__ import annotations

from pathlib import Path

import click

from gsync.cli import AppContext, common_options, pass_app


@click.command("export")
@click.option(
    "--xlsx",
    "xlsx_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    metavar="FILE",
    help="Write the trust spreadsheet, every tab, to FILE (XLSX, readable by you only).",
)
@common_options
@pass_app
def export(app: AppContext, xlsx_path: Path) -> None:
    """Export the whole trust spreadsheet as XLSX: every tab, hidden ones kept hidden.

    Reads the trust spreadsheet once. The file holds pupil data (names, contact details), so it
    is written with mode 0600 (readable by you only): keep it on an encrypted, access-controlled
    drive and delete it when done. Every cell is text, so no answer becomes a formula in Excel.
    """
    from gsync.xlsx import export_xlsx

    report = export_xlsx(app.workspace, app.config, xlsx_path)

    def human() -> None:
        rows = sum(report.tabs.values())
        click.echo(
            f"Wrote {report.path} ({len(report.tabs)} tabs, {rows} rows; readable by you only)."
        )
        click.echo("It holds pupil data: store it securely and delete it when no longer needed.")

    app.emit(report.as_dict(), human)
