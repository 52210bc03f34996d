from __future__ import annotations

import click

from certify.catalog import services
from certify.catalog.models import level_label
from certify.core.cli import DomainGroup

trades_cli = DomainGroup("trades", help="The trade catalog.")


@trades_cli.command("list")
def list_trades_command():
    """Each trade's code, name and certificate type (with its levels)."""
    trades = services.list_trades()
    if not trades:
        click.echo("no trades yet: run `flask --app wsgi demo load` or add one in the admin pages")
        return
    for trade in trades:
        levels = ", ".join(level_label(level) for level in trade.levels)
        line = f"{trade.code}\t{trade.name}\t{trade.certificate_type.label}"
        click.echo(f"{line}\t{levels}" if levels else line)
