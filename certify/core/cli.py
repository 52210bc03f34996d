"""What every CLI command does when it must stop: say why on stderr, exit 1."""

from __future__ import annotations

from typing import NoReturn

import click


def fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    raise SystemExit(1)
