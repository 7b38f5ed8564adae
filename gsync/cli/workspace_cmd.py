"""`gsync workspace info`: which backend is in use and what it holds."""

from __future__ import annotations

from typing import Any

import click

from gsync.cli import AppContext, common_options, pass_app
from gsync.emulator.core import MIME_FORM, MIME_SPREADSHEET


@click.group()
def workspace() -> None:
    """The Google Workspace (or local workspace) gsync talks to."""


def list_files(app: AppContext, mime_type: str) -> list[dict[str, Any]]:
    """Files of one type that gsync can see (all pages)."""
    drive = app.workspace.drive()
    files: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        request = drive.files().list(
            q=f"mimeType = '{mime_type}' and trashed = false",
            fields="nextPageToken, files(id, name, modifiedTime)",
            pageSize=1000,
            pageToken=token,
            supportsAllDrives=True,
            includeItemsFromAllDrives=True,
        )
        page = app.workspace.execute(request, "Drive files.list")
        files.extend(page.get("files", []))
        token = page.get("nextPageToken")
        if not token:
            return files


@workspace.command("info")
@common_options
@pass_app
def info(app: AppContext) -> None:
    """Show the backend in use and the spreadsheets and forms it holds."""
    config = app.config
    ws = app.workspace
    spreadsheets = list_files(app, MIME_SPREADSHEET)
    forms = list_files(app, MIME_FORM)
    schools = [
        {"name": s.name, "phase": s.phase, "form_id": s.form_id, "spreadsheet_id": s.spreadsheet_id}
        for s in config.schools
    ]
    data: dict[str, Any] = {
        "backend": ws.kind,
        "description": ws.describe(),
        "trust": config.trust.name,
        "trust_spreadsheet_id": config.trust.spreadsheet_id,
        "schools": schools,
        "spreadsheets": spreadsheets,
        "forms": forms,
    }

    def human() -> None:
        click.echo(f"Backend: {data['description']}")
        click.echo(
            f"Trust: {config.trust.name} (spreadsheet: {config.trust.spreadsheet_id or 'not created yet'})"
        )
        for s in schools:
            click.echo(
                f"  School {s['name']} ({s['phase']}): form {s['form_id'] or 'not created yet'}"
            )
        click.echo(f"Spreadsheets ({len(spreadsheets)}):")
        for f in spreadsheets:
            click.echo(f"  {f['id']}  {f['name']}")
        click.echo(f"Forms ({len(forms)}):")
        for f in forms:
            click.echo(f"  {f['id']}  {f['name']}")

    app.emit(data, human)
