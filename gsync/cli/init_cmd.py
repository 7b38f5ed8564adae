"""`gsync init`: write a valid, commented gsync.toml (and, with --create, the spreadsheet and forms)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from shlex import quote
from typing import Any

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.config import DEFAULT_CONFIG
from gsync.errors import ConfigError
from gsync.setup import AUTH_MODES, PHASES, InitOptions, SchoolEntry, pair_schools, school_entry


def _stdin_is_tty() -> bool:
    """Whether to prompt for missing values (a person at a terminal) or fail with exit 2."""
    return sys.stdin.isatty()


def _missing(flag: str, what: str) -> ConfigError:
    return ConfigError(
        f"{what} is required and there is no terminal to ask on.",
        fix=f"pass {flag} (see `gsync init --help`).",
    )


def _prompt_schools() -> list[SchoolEntry]:
    schools: list[SchoolEntry] = []
    while True:
        name = click.prompt("School short name (what --school takes)").strip()
        urn = click.prompt("Its six-digit URN").strip()
        phase = click.prompt(
            "Leavers' phase", type=click.Choice(PHASES, case_sensitive=False), default="Y11"
        )
        try:
            schools.append(school_entry(name, urn, phase))
        except ConfigError as exc:
            click.echo(f"  {exc.render()}", err=True)
            continue
        if not click.confirm("Add another school?", default=False):
            return schools


def _next_steps(out: Path, options: InitOptions, created: dict[str, Any] | None) -> list[str]:
    where = out.resolve().parent
    cfg = (
        "" if out.name == DEFAULT_CONFIG and where == Path.cwd() else f" --config {quote(str(out))}"
    )
    steps = [f"Check the term dates in {out} against your local authority's published dates."]
    if options.auth == "oauth":
        steps.append(f"Sign in once: gsync{cfg} auth login")
    if created is None:
        steps.append(f"Create the trust spreadsheet: gsync{cfg} sheet init")
        steps += [
            f"Create Form A: gsync{cfg} form create --school {quote(s.name)}"
            for s in options.schools
        ]
    steps += [
        f"Import the leavers' roster: gsync{cfg} roster import FILE --school {quote(s.name)}"
        for s in options.schools
    ]
    if created is not None:
        for name, form in created["forms"].items():
            steps.append(f"Share {name}'s Form A with its leavers: {form['responder_uri']}")
    else:
        steps.append("Share each school's Form A link (printed by `gsync form create`).")
    steps.append(
        f"Schedule the nightly sync, e.g. cron: 15 2 * * * cd {quote(str(where))} && gsync{cfg} sync"
    )
    steps.append(f"Check everything: gsync{cfg} doctor")
    return steps


@click.command("init")
@click.option("--trust", "trust_name", metavar="NAME", help="The trust's (or the school's) name.")
@click.option(
    "--school",
    "schools",
    multiple=True,
    metavar="SCHOOL",
    help='A school, repeatable: "NAME,URN,PHASE" (e.g. "Northfield,100001,Y11"), or a bare NAME '
    "followed by --urn and --phase (taken in order).",
)
@click.option(
    "--urn", "urns", multiple=True, metavar="URN", help="Six-digit URN of a bare --school."
)
@click.option(
    "--phase", "phases", multiple=True, metavar="Y11|Y13", help="Leavers' phase of a bare --school."
)
@click.option(
    "--auth",
    "auth_mode",
    type=click.Choice(AUTH_MODES),
    default=None,
    help="How to reach Google: local (no Google account; the default), service_account, oauth, adc.",
)
@click.option(
    "--credentials",
    "credentials_file",
    metavar="FILE",
    help="Service-account key, or OAuth client-secrets file (oauth needs one).",
)
@click.option("--subject", metavar="EMAIL", help="User a service account acts for (delegation).")
@click.option(
    "--folder", "folder_id", metavar="ID", help="Drive folder / Shared Drive id for files."
)
@click.option("--domain", "domains", multiple=True, metavar="DOMAIN", help="Schools' email domain.")
@click.option(
    "--out", type=click.Path(dir_okay=False), help="Where to write (default: gsync.toml)."
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
@click.option(
    "--create",
    is_flag=True,
    help="Also create the trust spreadsheet and each school's Form A, recording their ids.",
)
@common_options
@pass_app
def init(
    app: AppContext,
    trust_name: str | None,
    schools: tuple[str, ...],
    urns: tuple[str, ...],
    phases: tuple[str, ...],
    auth_mode: str | None,
    credentials_file: str | None,
    subject: str | None,
    folder_id: str | None,
    domains: tuple[str, ...],
    out: str | None,
    force: bool,
    create: bool,
) -> None:
    """Write a valid, commented gsync.toml for one school or a trust.

    \b
    Scripted:    gsync init --trust "Oak Trust" --school "Northfield,100001,Y11" \\
                            --school "Southgate,100002,Y13"
    Or:          gsync init --trust "Oak Trust" --school Northfield --urn 100001 --phase Y11
    Interactive: gsync init   (asks for what is missing when run in a terminal)

    Term dates for the current and next academic year are gsync's defaults: check them against
    your local authority's published dates. The file is validated before it is written; an
    existing file is kept unless --force. Without a terminal a missing value is an error (exit 2).
    """
    from gsync.setup import build_config, write_config

    path = Path(out or app.config_path or DEFAULT_CONFIG)
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; not overwriting it.",
            fix="pass --force to replace it, or --out PATH to write elsewhere.",
        )
    ask = _stdin_is_tty()
    if not trust_name:
        if not ask:
            raise _missing("--trust NAME", "The trust's (or school's) name")
        trust_name = click.prompt("Trust name (or the school's, for a single school)").strip()
    entries = pair_schools(schools, urns, phases)
    if not entries:
        if not ask:
            raise _missing('--school "NAME,URN,PHASE"', "At least one school")
        entries = _prompt_schools()
    if auth_mode is None:
        auth_mode = (
            click.prompt(
                "How should gsync reach Google", type=click.Choice(AUTH_MODES), default="local"
            )
            if ask
            else "local"
        )
    needs_file = auth_mode == "oauth" or (
        auth_mode == "service_account" and not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    )
    if needs_file and not credentials_file:
        what = "An OAuth client-secrets file" if auth_mode == "oauth" else "A service-account key"
        if not ask:
            raise _missing("--credentials FILE", f"{what} (google.auth = {auth_mode})")
        credentials_file = click.prompt(f"{what} (path)").strip()
    options = InitOptions(
        trust=str(trust_name),
        schools=tuple(entries),
        auth=auth_mode,  # type: ignore[arg-type]
        credentials_file=credentials_file or None,
        subject=subject or None,
        folder_id=folder_id or None,
        domains=tuple(d.strip() for d in domains if d.strip()),
    )
    text, config = build_config(options, dt.date.today(), str(path))
    write_config(path, text, force=force)
    app.config_path = str(path)
    created: dict[str, Any] | None = None
    if create:
        created = _create_files(app)
    steps = _next_steps(path, options, created)
    data = {
        "path": str(path.resolve()),
        "trust": config.trust.name,
        "schools": [{"name": s.name, "urn": s.urn, "phase": s.phase} for s in config.schools],
        "auth": config.google.auth,
        "term_dates": sorted(config.term_dates),
        "created": created,
        "next_steps": steps,
    }

    def human() -> None:
        click.echo(f"Wrote {path} for {config.trust.name}: {len(config.schools)} school(s).")
        click.echo(
            f"  Term dates for {', '.join(sorted(config.term_dates))} are defaults: check them."
        )
        if created is not None:
            click.echo(f"  Created the trust spreadsheet: {created['spreadsheet_id']}")
            for name, form in created["forms"].items():
                click.echo(f"  Created Form A for {name}: {form['form_id']}")
            click.echo("  Their ids are recorded in the configuration.")
        click.echo("Next steps:")
        for i, step in enumerate(steps, 1):
            click.echo(f"  {i}. {step}")

    app.emit(data, human)


def _create_files(app: AppContext) -> dict[str, Any]:
    """--create: the trust spreadsheet (`sheet init`), then each school's Form A (`form create`)."""
    from gsync.config import load_config
    from gsync.formsync import create_form
    from gsync.sync import init_sheet

    ws = app.workspace
    sheet = init_sheet(ws, app.config)
    forms: dict[str, Any] = {}
    config = load_config(app.config_path)  # re-read: init_sheet recorded the spreadsheet id
    for school in config.schools:
        result = create_form(ws, config, school.name, folder=config.google.folder_id)
        forms[school.name] = {
            "form_id": result["form_id"],
            "responder_uri": result.get("responder_uri"),
        }
    return {"spreadsheet_id": sheet.spreadsheet_id, "forms": forms}
