"""`gsync doctor`: is everything in place for the nightly sync? One line per check, with fixes."""

from __future__ import annotations

import click

from gsync.cli import AppContext, common_options, pass_app

_LABEL = {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}


@click.command("doctor")
@common_options
@pass_app
@click.pass_context
def doctor(ctx: click.Context, app: AppContext) -> None:
    """Check the configuration, credentials, backend, each API, the trust spreadsheet and forms.

    \b
    Checks: gsync.toml valid (schools; term dates for this academic year); credentials (mode,
    key or token file present and private, scopes); backend (Google / emulator / local);
    Drive, Sheets and Forms reachable and enabled; the trust spreadsheet reachable and on this
    gsync's template version; each school's Form A published and accepting responses.
    Exit 0 when nothing failed (warnings allowed), 1 otherwise. Never prints a secret or
    personal data.
    """
    from gsync.doctor import run_doctor

    report = run_doctor(app.config_path)

    def human() -> None:
        width = max(len(c.name) for c in report.checks)
        for check in report.checks:
            click.echo(f"{_LABEL[check.status]}  {check.name:<{width}}  {check.detail}")
            if check.fix and check.status in ("fail", "warn"):
                click.echo(f"      {'':<{width}}  Fix: {check.fix}")
        click.echo(report.summary())

    app.emit(report.to_json(), human)
    ctx.exit(report.exit_code)
