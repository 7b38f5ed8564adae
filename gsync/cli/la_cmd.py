"""`gsync la import` and `gsync dfe import`: outside data into the trust spreadsheet.

Each is one read of the trust spreadsheet, pure code, and one atomic write (like `roster import`).
The shell functions `import_la` and `import_dfe` are the library entry points; the click
commands only parse options and print. Output and errors carry counts, row numbers and column
names, never the personal data in a row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.config import Config
from gsync.errors import ConfigError, DataError
from gsync.workspace import Workspace


@dataclass
class LAImportReport:
    """What `la import` did (no personal data): counts per match status, unmatched rows' numbers."""

    school: str
    leaving_years: list[str]
    counts: dict[str, int]
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "leaving_years": self.leaving_years,
            "counts": self.counts,
            "unmatched": self.unmatched,
            "written": self.written,
            "dry_run": self.dry_run,
        }


def _problems(path: Path, problems: list[Any], what: str) -> DataError:
    lines = [f"row {p.row}, {p.column}: {p.problem}" for p in problems]
    return DataError(
        f"The {what} {path.name} has {len(lines)} problem(s); nothing was imported:\n  "
        + "\n  ".join(lines),
        fix="correct these rows (or map the columns with --map FIELD=COLUMN) and import again.",
    )


def import_la(
    ws: Workspace,
    config: Config,
    path: Path,
    school_name: str,
    *,
    mapping: dict[str, str] | None = None,
    leaving_year: int | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> LAImportReport:
    """Read an LA destinations file (all or nothing), match it, and replace the school's cohorts
    in the LA data tab in one write. Unmatched rows are written too (and listed), never dropped."""
    from gsync import la
    from gsync.sheetio import WritePlan, apply_plan, read_snapshot
    from gsync.sync import (
        check_template,
        load_template,
        new_state,
        pupil_frame,
        trust_spreadsheet_id,
    )
    from gsync.trust import load_specs

    now = now or dt.datetime.now(dt.UTC)
    school = config.school(school_name)
    taxonomy, _policy = load_specs(config)
    result = la.read_la_file(
        path, taxonomy=taxonomy, mapping=mapping, leaving_year=leaving_year, name=path.name
    )
    if result.errors:
        raise _problems(path, result.errors, "LA file")
    template = load_template(config)
    snapshot = read_snapshot(ws, trust_spreadsheet_id(config))
    check_template(snapshot, template)
    destinations = pupil_frame(snapshot, template.tab("destinations")).frame
    records = la.match_la(result.records, destinations, school=school.name)
    new = la.la_frame(
        records,
        taxonomy,
        school=school.name,
        imported=now.date().isoformat(),
        source=path.name,
    )
    la_tab = template.tab("la_data")
    current = pupil_frame(snapshot, la_tab)
    combined = la.replace_cohorts(current.frame, new, school.name)
    header = [c.header for c in la_tab.columns]
    rows: list[list[Any]] = [header, *combined[list(la.LA_COLUMNS)].values.tolist()]
    plan = WritePlan(snapshot)
    plan.replace_tab(la_tab.title, rows)
    report = LAImportReport(
        school=school.name,
        leaving_years=sorted({r.leaving_year for r in records}),
        counts=la.counts(records),
        unmatched=[
            {"row": r.row, "status": r.match_status, "reason": r.reason}
            for r in records
            if r.match_status in (la.UNMATCHED, la.AMBIGUOUS)
        ],
        dry_run=dry_run,
    )
    if not dry_run and not plan.is_empty:
        apply_plan(ws, plan, new_state(snapshot, template, now))
        report.written = True
    return report


@dataclass
class DfeImportReport:
    """What `dfe import` did: the measures set for the cohort and the rows compared."""

    school: str
    leaving_year: str
    measures: dict[str, str]
    written: bool = False
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "school": self.school,
            "leaving_year": self.leaving_year,
            "measures": self.measures,
            "written": self.written,
            "dry_run": self.dry_run,
        }


def import_dfe(
    ws: Workspace,
    config: Config,
    path: Path,
    school_name: str,
    leaving_year: int,
    *,
    time_period: str | None = None,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> DfeImportReport:
    """Put the school's published DfE percentages for a cohort in the DfE measures tab, with
    gsync's own figures beside them, in one write."""
    from gsync import dfe
    from gsync.sheetio import WritePlan, apply_plan, read_snapshot
    from gsync.sync import (
        check_template,
        load_template,
        new_state,
        pupil_frame,
        trust_spreadsheet_id,
    )
    from gsync.trust import load_specs

    now = now or dt.datetime.now(dt.UTC)
    school = config.school(school_name)
    taxonomy, _policy = load_specs(config)
    result = dfe.read_dfe_csv(path, urn=str(school.urn), time_period=time_period)
    if result.errors:
        raise _problems(path, result.errors, "DfE file")
    if not result.values:
        raise DataError(
            f"The DfE file {path.name} has no whole-cohort row for URN {school.urn}.",
            fix="check the school's URN in gsync.toml and pass --time-period if the file "
            "holds several years.",
        )
    template = load_template(config)
    snapshot = read_snapshot(ws, trust_spreadsheet_id(config))
    check_template(snapshot, template)
    destinations = pupil_frame(snapshot, template.tab("destinations")).frame
    tab = template.tab("dfe_measures")
    current = pupil_frame(snapshot, tab)
    year = str(leaving_year)
    upserted = dfe.upsert_dfe(current.frame, result.values, school=school.name, leaving_year=year)
    compared = dfe.compare_frame(upserted, destinations, taxonomy)
    plan = WritePlan(snapshot)
    writable = {c.key for c in tab.columns if c.owner == "sync"} | {"dfe_percent"}
    plan.update_frame(current, compared, writable=writable)
    report = DfeImportReport(school.name, year, dict(result.values), dry_run=dry_run)
    if not dry_run and not plan.is_empty:
        apply_plan(ws, plan, new_state(snapshot, template, now))
        report.written = True
    return report


# --- commands -----------------------------------------------------------------------------------------


def _pairs(mapping: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in mapping:
        key, sep, column = item.partition("=")
        if not sep or not key.strip() or not column.strip():
            raise ConfigError(
                f"--map {item!r} is not FIELD=COLUMN.", fix="e.g. --map activity_code='Status'."
            )
        out[key.strip()] = column.strip()
    return out


@click.group("la")
def la_group() -> None:
    """The local authority's destination data (NCCIS activity codes)."""


@la_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--school", required=True, help="The school the file is about (as in gsync.toml).")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="Use COLUMN of the file for FIELD (upn, forename, surname, date_of_birth, "
    "activity_code, activity_description, provider, course, level, start_date, recorded, "
    "leaving_year); repeatable.",
)
@click.option("--leaving-year", type=int, default=None, help="The cohort, when the file has none.")
@click.option("--dry-run", is_flag=True, help="Read, match and print the counts; write nothing.")
@common_options
@pass_app
def la_import(
    app: AppContext,
    file: Path,
    school: str,
    mapping: tuple[str, ...],
    leaving_year: int | None,
    dry_run: bool,
) -> None:
    """Import an LA destinations FILE (CSV or XLSX) into the LA data tab.

    Rows are matched to the roster by UPN, then by name and date of birth; unmatched rows are
    kept and listed. The next `gsync sync` reconciles them with the school's records.
    """
    report = import_la(
        app.workspace,
        app.config,
        file,
        school,
        mapping=_pairs(mapping) or None,
        leaving_year=leaving_year,
        dry_run=dry_run,
    )

    def human() -> None:
        c = report.counts
        click.echo(
            f"{report.school}: {c['rows']} LA rows; {c['matched']} matched, {c['unmatched']} "
            f"unmatched, {c['ambiguous']} ambiguous, {c['superseded']} superseded"
            + (" (dry run: nothing written)" if dry_run else "")
        )
        for item in report.unmatched:
            click.echo(f"  row {item['row']}: {item['status']} ({item['reason']})")

    app.emit(report.as_dict(), human)


@click.group("dfe")
def dfe_group() -> None:
    """The DfE's published destination measures."""


@dfe_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--school", required=True, help="The school (its URN picks the file's row).")
@click.option("--leaving-year", type=int, required=True, help="The cohort the measures are for.")
@click.option("--time-period", default=None, help="The file's time_period (e.g. 202223).")
@click.option("--dry-run", is_flag=True, help="Read and compare; write nothing.")
@common_options
@pass_app
def dfe_import(
    app: AppContext,
    file: Path,
    school: str,
    leaving_year: int,
    time_period: str | None,
    dry_run: bool,
) -> None:
    """Import the school's row of a DfE destination-measures CSV into the DfE measures tab."""
    report = import_dfe(
        app.workspace,
        app.config,
        file,
        school,
        leaving_year,
        time_period=time_period,
        dry_run=dry_run,
    )

    def human() -> None:
        click.echo(
            f"{report.school} {report.leaving_year}: {len(report.measures)} DfE measure(s) read"
            + (" (dry run: nothing written)" if dry_run else "")
        )

    app.emit(report.as_dict(), human)
