"""`gsync status` and `gsync contacts due`: what is due, what is late, and whom to contact."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.errors import ConfigError, OverdueError

STATE_STYLE = {
    "upcoming": "",
    "due_soon": "yellow",
    "overdue": "bold red",
    "complete": "green",
    "completed_late": "dark_orange",
}


def parse_day(value: str | None) -> dt.date | None:
    """--as-of DATE (YYYY-MM-DD)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--as-of {value!r} is not a date.", fix="use YYYY-MM-DD, e.g. 2026-09-15."
        ) from None


def _warn(warnings: list[str]) -> None:
    """Each warning once, on stderr (so --json output stays clean)."""
    for warning in dict.fromkeys(warnings):
        click.echo(f"gsync: warning: {warning}", err=True)


def _console() -> Any:
    from rich.console import Console

    # Not a terminal (a pipe, a file, a test): wide enough that rows are not wrapped mid-word.
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _days(days_left: int) -> str:
    if days_left < 0:
        return f"{-days_left} overdue"
    return "today" if days_left == 0 else f"{days_left} left"


school_option = click.option("--school", default=None, metavar="NAME", help="One school only.")
as_of_option = click.option(
    "--as-of", "as_of", default=None, metavar="DATE", help="As if today were DATE (YYYY-MM-DD)."
)


@click.command("status")
@school_option
@as_of_option
@click.option(
    "--fail-on-overdue",
    is_flag=True,
    help="Exit with code 7 when any entry is overdue (for monitoring).",
)
@common_options
@pass_app
def status(app: AppContext, school: str | None, as_of: str | None, fail_on_overdue: bool) -> None:
    """Every live cohort's entries: due date, days left, complete / total, state.

    Counts only: no pupil is named. Reads the trust spreadsheet once.
    """
    from gsync.status import trust_status

    result = trust_status(app.workspace, app.config, school=school, as_of=parse_day(as_of))
    _warn(result.warnings)

    def human() -> None:
        from rich.table import Table

        table = Table(title=f"Deadlines as of {result.as_of.isoformat()}")
        for name, justify in (
            ("School", "left"),
            ("Cohort", "left"),
            ("Entry", "left"),
            ("Due", "left"),
            ("Days", "right"),
            ("Complete", "right"),
            ("%", "right"),
            ("State", "left"),
        ):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for r in result.records():
            style = STATE_STYLE.get(r["state"], "")
            table.add_row(
                r["school"],
                f"{r['leaving_year']} {r['phase']}".strip(),
                r["label"],
                r["due"],
                _days(r["days_left"]),
                f"{r['complete']}/{r['total']}",
                f"{r['percent']:.1f}",
                f"[{style}]{r['state']}[/]" if style else r["state"],
            )
        console = _console()
        if result.rows.empty:
            console.print("No live cohorts: import a roster first (`gsync roster import`).")
        else:
            console.print(table)
            n = len(result.overdue)
            console.print(f"{n} overdue entr{'y' if n == 1 else 'ies'}.")

    app.emit(result.as_dict(), human)
    if fail_on_overdue and len(result.overdue):
        raise OverdueError(
            f"{len(result.overdue)} entr{'y is' if len(result.overdue) == 1 else 'ies are'} overdue.",
            fix="see `gsync status` and `gsync contacts due`.",
        )


@click.group()
def contacts() -> None:
    """Contact attempts: whom to contact this term."""


def _write_private(path: Path, text: str) -> None:
    """Create (or truncate) `path` readable by its owner only (it holds personal data)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode otherwise
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            fd = -1
            handle.write(text)
    finally:
        if fd != -1:
            os.close(fd)


def _csv_text(records: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


@contacts.command("due")
@school_option
@as_of_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv"]),
    default="table",
    show_default=True,
    help="csv: with names and contact details (to stdout, or to --out).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the CSV (or JSON with --json) with contact details to FILE (mode 0600).",
)
@common_options
@pass_app
def contacts_due_cmd(
    app: AppContext, school: str | None, as_of: str | None, fmt: str, out: Path | None
) -> None:
    """Pupils missing the entry now due (not do-not-contact), with their attempts so far.

    The table shows UPNs, entries and attempts only; names, personal emails and phones appear
    only in the CSV (--format csv) or JSON (--json) you ask for.
    """
    from gsync.status import due_contacts

    result = due_contacts(app.workspace, app.config, school=school, as_of=parse_day(as_of))
    _warn(result.warnings)
    columns = [str(c) for c in result.rows.columns]
    if app.json:
        text = json.dumps(
            {"as_of": result.as_of.isoformat(), "pupils": result.records(personal=True)},
            indent=2,
            sort_keys=True,
        )
    elif fmt == "csv" or out is not None:
        text = _csv_text(result.records(personal=True), columns)
    else:
        _table(result)
        return
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    _write_private(out, text)
    click.echo(
        f"{len(result.rows)} pupil(s) due a contact written to {out} (readable by you only)."
    )


def _table(result: Any) -> None:
    from rich.table import Table

    console = _console()
    rows = result.records(personal=False)
    if not rows:
        console.print(f"No pupils are due a contact as of {result.as_of.isoformat()}.")
        return
    table = Table(title=f"Due a contact as of {result.as_of.isoformat()}")
    for name in ("School", "UPN", "Cohort", "Entry", "Due", "Attempts", "Channels tried", "Last"):
        table.add_column(name)
    for r in rows:
        table.add_row(
            r["school"],
            r["upn"],
            f"{r['leaving_year']} {r['phase']}".strip(),
            r["entry"],
            r["due"],
            str(r["attempts"]),
            r["channels"] or "-",
            r["last_attempt"] or "-",
        )
    console.print(table)
    console.print(
        f"{len(rows)} pupil(s). Names and contact details: "
        "gsync contacts due --format csv --out FILE"
    )
