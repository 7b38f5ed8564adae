"""`gsync auth login`: sign in once with the OAuth installed-app flow (google.auth = "oauth")."""

from __future__ import annotations

import click

from gsync.cli import AppContext, common_options, pass_app


@click.group()
def auth() -> None:
    """Google sign-in for google.auth = "oauth"."""


@auth.command("login")
@click.option("--force", is_flag=True, help="Sign in again even if the cached token is valid.")
@common_options
@pass_app
def login(app: AppContext, force: bool) -> None:
    """Sign in in a browser and cache the token (mode 0600) for later runs.

    Needs a terminal; the nightly job then reuses (and refreshes) the cached token. The token's
    path is google.token_file (default ~/.config/gsync/token.json). Other auth modes need no
    sign-in and get an error saying what to do instead.
    """
    from gsync.setup import oauth_login

    result = oauth_login(app.config, force=force)
    data = {
        "token_file": str(result.token_file),
        "signed_in": result.signed_in,
        "permissions_fixed": result.permissions_fixed,
    }

    def human() -> None:
        if result.signed_in:
            click.echo(f"Signed in. Token cached at {result.token_file} (mode 600).")
        else:
            click.echo(
                f"Already signed in: the token at {result.token_file} is valid and has every "
                "scope gsync needs (use --force to sign in again)."
            )
        if result.permissions_fixed:
            click.echo("  Its permissions were too open; set to 600 (owner only).")

    app.emit(data, human)
