"""`gsync risk`: the at-risk-of-NEET list (issue 11) from the trust spreadsheet, read once.

The terminal (and --json) shows counts only: by school, by reason and by priority group. The list
itself, with names, is in the spreadsheet's Risk tab (written by every sync) and, on request, in
the CSV file `--output` names (written mode 0600): personal details go only where the user asks.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections import Counter
from pathlib import Path
from typing import Any

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.cli.sync_cmd import as_of_option, parse_as_of


def risk_report(
    ws: Any, config: Any, *, school: str | None, as_of: dt.date, output: Path | None
) -> dict[str, Any]:
    """Compute the list from one read of the spreadsheet; counts (no personal data) and the file."""
    from gsync.risk import WEIGHTS, assess, risk_rows
    from gsync.sheetio import read_snapshot
    from gsync.sync import check_template, load_rules, load_template, pupil_frame

    if school is not None:
        school = config.school(school).name
    template = load_template(config)
    rules = load_rules(config)
    snapshot = read_snapshot(ws, _spreadsheet_id(config))
    check_template(snapshot, template)
    frames = {
        k: pupil_frame(snapshot, template.tab(k)).frame
        for k in ("destinations", "intentions", "applications")
    }
    entries = assess(
        frames["destinations"],
        frames["intentions"],
        frames["applications"],
        rules,
        config.term_dates,
        as_of,
        school=school,
    )
    if output is not None:
        tab = template.tab("risk")
        rows = risk_rows(entries, tab.keys)
        output.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([c.header for c in tab.columns])
            for row in rows:
                # A leading =, +, - or @ would be a formula in a spreadsheet program: quote it.
                writer.writerow([_safe(row[c.key]) for c in tab.columns])
        os.chmod(output, 0o600)
    reasons = Counter(code for e in entries for code in e.reasons)
    return {
        "as_of": as_of.isoformat(),
        "school": school,
        "pupils": len(entries),
        "by_school": dict(sorted(Counter(e.school for e in entries).items())),
        "by_reason": {code: reasons.get(code, 0) for code in WEIGHTS},
        "by_priority_group": dict(
            sorted(Counter(g for e in entries for g in e.priority_groups).items())
        ),
        "output": str(output) if output is not None else None,
    }


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _spreadsheet_id(config: Any) -> str:
    from gsync.sync import trust_spreadsheet_id

    return trust_spreadsheet_id(config)


@click.command("risk")
@click.option("--school", default=None, help="Only this school (default: every school).")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the full list (with names) to this CSV file (mode 0600).",
)
@as_of_option
@common_options
@pass_app
def risk(app: AppContext, school: str | None, output: Path | None, as_of: str | None) -> None:
    """Pupils at risk of NEET: no plan, no application, no offer, a level above their track,
    or no response to the current survey round; highest risk first (the Risk tab)."""
    moment = parse_as_of(as_of) or dt.datetime.now(dt.UTC)
    report = risk_report(
        app.workspace, app.config, school=school, as_of=moment.date(), output=output
    )

    def human() -> None:
        where = report["school"] or "all schools"
        click.echo(
            f"At risk of NEET as of {report['as_of']} ({where}): {report['pupils']} pupil(s)"
        )
        for name, n in report["by_school"].items():
            click.echo(f"  {name}: {n}")
        click.echo("By reason:")
        for code, n in report["by_reason"].items():
            click.echo(f"  {code}: {n}")
        if report["by_priority_group"]:
            click.echo("By priority group:")
            for group, n in report["by_priority_group"].items():
                click.echo(f"  {group}: {n}")
        if report["output"]:
            click.echo(f"The list (with names) is in {report['output']}.")
        else:
            click.echo("The list is in the spreadsheet's Risk tab (or use --output FILE.csv).")

    app.emit(report, human)
