"""`gsync audit`: who can open each spreadsheet and form (Drive permissions), flagged."""

from __future__ import annotations

import click

from gsync.cli import AppContext, common_options, pass_app


@click.command("audit")
@click.option(
    "--flagged-only", is_flag=True, help="List only grants outside the trust or shared by link."
)
@common_options
@pass_app
def audit(app: AppContext, flagged_only: bool) -> None:
    """List who can open the trust spreadsheet, school spreadsheets and forms.

    Flags anyone outside the trust's domains (trust.domains and the schools' email domains)
    and any "anyone with the link" or public sharing. Changes nothing.
    """
    from gsync.audit import run_audit

    report = run_audit(app.workspace, app.config)

    def human() -> None:
        from rich.console import Console
        from rich.table import Table

        console = Console(highlight=False, soft_wrap=True)
        table = Table(title=f"Sharing (trust domains: {', '.join(report.domains) or 'none set'})")
        for name in ("File", "Who", "Type", "Role", "Flag"):
            table.add_column(name)
        for g in report.grants:
            if flagged_only and not g.flag:
                continue
            table.add_row(g.file, g.who, g.type, g.role, g.flag or "")
        console.print(table)
        for label, why in report.unreadable.items():
            console.print(f"{label}: could not read its sharing ({why})")
        console.print(
            f"{len(report.flagged)} grant(s) flagged."
            + (" Remove them in Drive (Share) unless intended." if report.flagged else "")
        )

    app.emit(report.as_dict(), human)
