"""`gsync demo`: run the main job end to end on the embedded local workspace."""

from __future__ import annotations

from pathlib import Path

import click

from gsync.cli import AppContext, common_options, pass_app


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for the demo's configuration, rosters and local workspace (replaced each run).",
)
@common_options
@pass_app
def demo(app: AppContext, out_dir: Path) -> None:
    """Build a demo trust of two schools and run the main job on it, no Google account needed.

    Creates the trust spreadsheet and each school's Form A on the embedded local workspace,
    imports sample rosters, submits sample responses as pupils would, and syncs.
    """
    from gsync.demo import run_demo

    result = run_demo(out_dir.resolve(), echo=(lambda _line: None) if app.json else click.echo)
    app.emit(
        {
            "out_dir": str(result.out_dir),
            "config": str(result.config_path),
            "steps": [{"command": s.command, "summary": s.summary} for s in result.steps],
        },
        lambda: None,
    )
