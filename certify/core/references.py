"""Finding what refers to a row, so deletions of things in use can be refused."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from certify.extensions import db


def count_references(
    targets: dict[str, list[int]], skip: frozenset[str] = frozenset()
) -> Counter[str]:
    """How many rows in other tables point at the given rows, by table.

    Found through the foreign keys themselves, so every table added later (banks,
    cohorts, certificates) guards deletion without this function changing.
    """
    usage: Counter[str] = Counter()
    for table in db.metadata.sorted_tables:
        if table.name in skip:
            continue
        for fk in table.foreign_keys:
            ids = targets.get(fk.column.table.name)
            if not ids or fk.column.name != "id":
                continue
            count = db.session.scalar(
                sa.select(sa.func.count()).select_from(table).where(fk.parent.in_(ids))
            )
            if count:
                usage[table.name] += count
    return usage
