"""`gsync form`: create, update and inspect a school's Form A, and render Form B (the letter)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from gsync.cli import AppContext, common_options, pass_app

if TYPE_CHECKING:
    from gsync.formsync import EmailCollection

_EMAIL_COLLECTION = {"verified": "VERIFIED", "responder-input": "RESPONDER_INPUT"}


@click.group()
def form() -> None:
    """Form A (the leavers' consent-and-destination form) and Form B (the letter home)."""


def _print_plan(data: dict[str, Any]) -> None:
    for line in data.get("requests", []):
        click.echo(f"  {line}")


@form.command("create")
@click.option("--school", required=True, help="The school (its name in gsync.toml).")
@click.option(
    "--email-collection",
    type=click.Choice(sorted(_EMAIL_COLLECTION)),
    default="verified",
    show_default=True,
    help="verified: record the respondent's Google account (school accounts); "
    "responder-input: respondents type an email (consumer accounts).",
)
@click.option("--folder", help="Drive folder or Shared Drive id to put the form in.")
@click.option(
    "--round",
    "round_key",
    metavar="NAME",
    help="Make this survey round's form instead of Form A (a key of deadlines.toml [[rounds]]).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; make no write request.")
@common_options
@pass_app
def create(
    app: AppContext,
    school: str,
    email_collection: str,
    folder: str | None,
    round_key: str | None,
    dry_run: bool,
) -> None:
    """Create, fill and publish Form A (or a round's form) for a school; record its ids."""
    from gsync.formsync import create_form

    config = app.config
    config.school(school)  # unknown school: a clear error before the workspace opens
    result = create_form(
        app.workspace,
        config,
        school,
        email_collection=cast("EmailCollection", _EMAIL_COLLECTION[email_collection]),
        folder=folder,
        dry_run=dry_run,
        round_key=round_key,
    )
    what = f"the {round_key} form" if round_key else "Form A"

    def human() -> None:
        if result["dry_run"]:
            click.echo(f"Dry run: would create {what} for {result['school']} from {result['spec']}")
            if not result["reuse_form_id"]:
                click.echo("  forms.create (title only)")
            click.echo("  forms.batchUpdate:")
            _print_plan(result)
            click.echo("  forms.setPublishSettings (published, accepting responses)")
            if folder:
                click.echo(f"  Drive files.update addParents={folder}")
            return
        click.echo(f"Created {what} for {result['school']}: {result['form_id']}")
        click.echo(f"  {len(result['form_questions'])} questions; published, accepting responses.")
        if result["config_updated"]:
            click.echo("  form_id and form_questions recorded in the configuration.")
        click.echo(f"Responder link: {result['responder_uri']}")

    app.emit(result, human)


@form.command("update")
@click.option("--school", required=True, help="The school (its name in gsync.toml).")
@click.option("--force", is_flag=True, help="Also delete questions that already have answers.")
@click.option(
    "--round",
    "round_key",
    metavar="NAME",
    help="The survey round's form instead of Form A (a key of deadlines.toml [[rounds]]).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; make no write request.")
@common_options
@pass_app
def update(app: AppContext, school: str, round_key: str | None, force: bool, dry_run: bool) -> None:
    """Bring a school's Form A (or a round's form) to its spec with the fewest requests."""
    from gsync.formsync import update_form

    config = app.config
    config.school(school)
    result = update_form(
        app.workspace, config, school, force=force, dry_run=dry_run, round_key=round_key
    )
    what = f"The {round_key} form" if round_key else "Form A"

    def human() -> None:
        if result["in_spec"]:
            click.echo(f"{what} for {result['school']} matches its spec: nothing to change.")
        else:
            verb = "Would send" if dry_run else "Sent"
            click.echo(
                f"{verb} one forms.batchUpdate of {len(result['requests'])} request(s) "
                f"for {result['school']}:"
            )
            _print_plan(result)
            if dry_run and result["deletes_answered_questions"]:
                click.echo(
                    f"  Warning: deletes {result['deletes_answered_questions']} question(s) "
                    "with answers (needs --force)."
                )
        if result.get("config_updated"):
            click.echo("form_questions updated in the configuration.")

    app.emit(result, human)


@form.command("show")
@click.option("--school", required=True, help="The school (its name in gsync.toml).")
@click.option(
    "--round",
    "round_key",
    metavar="NAME",
    help="The survey round's form instead of Form A (a key of deadlines.toml [[rounds]]).",
)
@common_options
@pass_app
def show(app: AppContext, school: str, round_key: str | None) -> None:
    """The live form (Form A or a round's) against its spec, publish state and response count."""
    from gsync.formsync import show_form

    config = app.config
    config.school(school)
    result = show_form(app.workspace, config, school, round_key=round_key)
    what = f"The {round_key} form" if round_key else "Form A"
    flag = f" --round {round_key}" if round_key else ""

    def human() -> None:
        click.echo(f"{what} for {result['school']}: {result['form_id']}")
        click.echo(f"  Spec: {result['spec']}")
        click.echo(f"  Responder link: {result['responder_uri']}")
        click.echo(
            f"  Published: {'yes' if result['published'] else 'no'}; accepting responses: "
            f"{'yes' if result['accepting_responses'] else 'no'}; email collection: "
            f"{result['email_collection'] or 'not set'}; responses: {result['response_count']}"
        )
        if result["info_differs"]:
            click.echo(f"  Form info differs: {', '.join(result['info_differs'])}")
        for item in result["items"]:
            label = item["key"] or "(not in spec)"
            how = f" ({'; '.join(item['changes'])})" if item["changes"] else ""
            click.echo(f"  {item['state']:<8} {label}: {item['title']}{how}")
        click.echo(
            "  In spec."
            if result["in_spec"]
            else f"  Differs: `gsync form update --school {result['school']}{flag}` would fix it."
        )

    app.emit(result, human)


@form.command("letter")
@click.option("--school", required=True, help="The school (its name in gsync.toml).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder to write the Markdown and HTML files into.",
)
@common_options
@pass_app
def letter(app: AppContext, school: str, out_dir: Path) -> None:
    """Form B: the letter to parents / carers, as Markdown and HTML."""
    from gsync.letter import write_letter

    md_path, html_path = write_letter(app.config.school(school), out_dir)
    result = {"school": app.config.school(school).name, "markdown": md_path, "html": html_path}
    app.emit(result, lambda: click.echo(f"Wrote {md_path} and {html_path}"))
