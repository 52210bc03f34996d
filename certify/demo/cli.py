from __future__ import annotations

import click

from certify.core.cli import DomainGroup
from certify.demo import data
from certify.demo.services import load_demo
from certify.extensions import db

demo_cli = DomainGroup("demo", help="Demo data.")


@demo_cli.command("load")
def load_demo_command():
    """Load the two pilot trades and one account per role (safe to run again)."""
    report = load_demo()
    db.session.commit()
    created = ", ".join(report["created"]) or "nothing (already loaded)"
    click.echo(f"demo data: created {created}")
    _print_accounts()


@demo_cli.command("accounts")
def demo_accounts_command():
    """Print the demo accounts and their passwords."""
    _print_accounts()


def _print_accounts() -> None:
    click.echo("demo accounts (role, user name, password):")
    for spec in data.ACCOUNTS:
        line = f"  {spec['role'].value:<9} {spec['username']:<9} {spec['password']}"
        if spec.get("id_number"):
            line += f"   (or log in with ID number {spec['id_number']})"
        click.echo(line)
