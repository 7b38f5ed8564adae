"""The `gsync` command line: a thin click layer over the library.

Each command group lives in its own module and is registered at the bottom of this file.
Errors reach the user as one clear line and the exit code documented in the README.
"""

from __future__ import annotations

import json as jsonlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from gsync import __version__
from gsync.errors import GsyncError

if TYPE_CHECKING:
    from gsync.config import Config
    from gsync.workspace import Workspace


@dataclass
class AppContext:
    """What every command receives: options common to all, and lazily opened resources."""

    config_path: str | None = None
    json: bool = False
    verbose: int = 0
    _config: Config | None = field(default=None, repr=False)
    _workspace: Workspace | None = field(default=None, repr=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            from gsync.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @property
    def workspace(self) -> Workspace:
        if self._workspace is None:
            from gsync.workspace import open_workspace

            self._workspace = open_workspace(self.config)
        return self._workspace

    def emit(self, data: Any, human: Callable[[], None] | None = None) -> None:
        """Print `data` as JSON under --json, else call `human` (or print data plainly)."""
        if self.json:
            click.echo(jsonlib.dumps(data, indent=2, sort_keys=True, default=str))
        elif human is not None:
            human()
        else:
            click.echo(
                data if isinstance(data, str) else jsonlib.dumps(data, indent=2, default=str)
            )

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


pass_app = click.make_pass_decorator(AppContext)


def common_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--config / --json / -v accepted after any command too (`gsync sync --json`)."""

    def set_config(ctx: click.Context, _p: click.Parameter, value: str | None) -> None:
        if value is not None:
            ctx.ensure_object(AppContext).config_path = value

    def set_json(ctx: click.Context, _p: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(AppContext).json = True

    def set_verbose(ctx: click.Context, _p: click.Parameter, value: int) -> None:
        if value:
            app = ctx.ensure_object(AppContext)
            app.verbose = max(app.verbose, value)
            _configure_logging(app.verbose)

    def set_log_format(ctx: click.Context, _p: click.Parameter, value: str | None) -> None:
        if value:
            from gsync.progress import configure_logging

            configure_logging(value, ctx.ensure_object(AppContext).verbose)

    fn = click.option(
        "--log-format",
        "log_format_",
        type=click.Choice(["text", "json"]),
        default=None,
        expose_value=False,
        callback=set_log_format,
        help="json: log (and report progress) as one JSON object per line on stderr.",
    )(fn)
    fn = click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=set_verbose,
        help="More log output (-vv for debug). Logs never carry personal data.",
    )(fn)
    fn = click.option(
        "--json",
        "json_",
        is_flag=True,
        expose_value=False,
        callback=set_json,
        help="Print machine-readable JSON.",
    )(fn)
    fn = click.option(
        "--config",
        "config_",
        type=click.Path(dir_okay=False),
        expose_value=False,
        callback=set_config,
        help="Configuration file (default: ./gsync.toml).",
    )(fn)
    return fn


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("gsync").setLevel(level)


class GsyncGroup(click.Group):
    """Maps GsyncError to one line on stderr and its documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GsyncError as exc:
            click.echo(f"gsync: error: {exc.render()}", err=True)
            ctx.exit(exc.exit_code)
        finally:
            app = ctx.find_object(AppContext)
            if app is not None:
                app.close()


@click.group(cls=GsyncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gsync")
@common_options
@click.pass_context
def main(ctx: click.Context) -> None:
    """gsync: leavers' destination data on Google Workspace.

    Generates Form A, syncs its responses nightly into the trust's 'CEIAG Metrics &
    Destinations' spreadsheet, applies the deadline rules and writes anonymised summaries.

    \b
    Exit codes: 0 ok; 1 failure; 2 usage or configuration error; 3 credentials;
    4 Google API refused; 5 another run holds the lock; 6 input file rejected;
    7 overdue (status --fail-on-overdue); 8 disclosure check failed; 9 not found.
    """
    ctx.ensure_object(AppContext)


def _register_commands() -> None:
    """Command groups register here: one import and one add_command per module (inside this
    function, so the command modules' own `from gsync.cli import ...` causes no import cycle)."""
    from gsync.cli import emulator_cmd
    from gsync.cli import workspace_cmd
    from gsync.cli import form_cmd
    from gsync.cli import sync_cmd
    from gsync.cli import demo_cmd
    from gsync.cli import summary_cmd
    from gsync.cli import status_cmd
    from gsync.cli import init_cmd
    from gsync.cli import auth_cmd
    from gsync.cli import doctor_cmd
    from gsync.cli import privacy_cmd
    from gsync.cli import audit_cmd
    from gsync.cli import report_cmd
    from gsync.cli import export_cmd
    from gsync.cli import risk_cmd
    from gsync.cli import la_cmd

    main.add_command(emulator_cmd.emulator)
    main.add_command(workspace_cmd.workspace)
    main.add_command(form_cmd.form)
    main.add_command(sync_cmd.sheet)
    main.add_command(sync_cmd.roster)
    main.add_command(sync_cmd.sync)
    main.add_command(demo_cmd.demo)
    main.add_command(summary_cmd.summary)
    main.add_command(summary_cmd.trust)
    main.add_command(status_cmd.status)
    main.add_command(status_cmd.contacts)
    main.add_command(init_cmd.init)
    main.add_command(auth_cmd.auth)
    main.add_command(doctor_cmd.doctor)
    main.add_command(privacy_cmd.purge)
    main.add_command(privacy_cmd.subject)
    main.add_command(audit_cmd.audit)
    main.add_command(report_cmd.report)
    main.add_command(export_cmd.export)
    main.add_command(risk_cmd.risk)
    main.add_command(la_cmd.la_group)
    main.add_command(la_cmd.dfe_group)


_register_commands()
