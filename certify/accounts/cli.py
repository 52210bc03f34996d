from __future__ import annotations

import click

from certify.accounts import services
from certify.accounts.models import Role
from certify.core.cli import DomainGroup

users_cli = DomainGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default="", help="Full name as on the ID card.")
@click.option(
    "--id-number", default=None, help="18-character ID card number (workers log in with it)."
)
@click.option(
    "--trade", "trades", multiple=True, help="Trade code a trainer or examiner is accredited for."
)
@click.option("--must-change-password", is_flag=True, help="Ask for a new password at first login.")
def create_user_command(username, password, role, name, id_number, trades, must_change_password):
    """Create an account."""
    data = services.UserData(
        username=username, role=Role(role), name=name, id_number=id_number, trade_codes=trades
    )
    user = services.create_user(data, password, must_change_password=must_change_password)
    click.echo(f"created {user.role.value} {user.username} (id {user.id})")


@users_cli.command("list")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None)
def list_users_command(role):
    """List accounts: user name, role, name."""
    for user in services.list_users(Role(role) if role else None):
        state = "" if user.active else "\tinactive"
        click.echo(f"{user.username}\t{user.role.value}\t{user.name}{state}")
