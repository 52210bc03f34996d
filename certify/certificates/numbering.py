"""Certificate numbers: a per-trade format, and serials that are never handed out twice.

The default for 职业技能等级证书 is the national 22-character layout of the 2019 coding rules:
institution kind (S 社会培训评价组织 / Y 用人单位), 4-digit institution code, 2-digit province
code, 6-digit site code, 2-digit year, level digit, 6-digit serial. 专项职业能力证书 have no
national layout; the default is the province's prefix ZX, province, site, year and serial,
and each trade may set its own format.

A serial is counted per prefix (everything the format puts before the serial), through one
atomic upsert on a counter row, so concurrent issuers never get the same number and a
revoked or superseded number is never reused.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from certify.catalog.models import Trade
from certify.catalog.number_formats import format_problem, number_format
from certify.certificates.models import CertificateSerial
from certify.core.errors import Conflict, Problem, ValidationFailed
from certify.extensions import db


@dataclass(frozen=True)
class Issuer:
    """The 评价机构 that issues, as configured for this deployment."""

    name: str
    kind: str
    institution: str
    province: str
    site: str
    endorser: str

    @classmethod
    def configured(cls) -> Issuer:
        config = current_app.config
        return cls(
            name=config["ISSUER_NAME"],
            kind=config["ISSUER_KIND"],
            institution=config["ISSUER_CODE"],
            province=config["ISSUER_PROVINCE"],
            site=config["ISSUER_SITE"],
            endorser=config["ENDORSING_BODY"],
        )


def allocate_number(trade: Trade, level: int | None, issued_on: date) -> str:
    """The next unused number for a certificate of this trade and level."""
    template = number_format(trade)
    problem = format_problem(template)
    if problem:
        raise ValidationFailed([Problem("certificate_number_format", problem)])
    issuer = Issuer.configured()
    values = {
        "kind": issuer.kind,
        "institution": issuer.institution,
        "province": issuer.province,
        "site": issuer.site,
        "yy": f"{issued_on.year % 100:02d}",
        "yyyy": f"{issued_on.year:04d}",
        "level": str(level or 0),
    }
    head = template[: template.index("{serial")]
    prefix = head.format(**values)
    serial = next_serial(prefix)
    spec = template[template.index("{serial") :]
    number = prefix + spec.format(serial=serial)
    width = _serial_width(spec)
    if width and len(str(serial)) > width:
        raise Conflict(
            _("The serials under %(prefix)s are used up.", prefix=prefix), code="serials_exhausted"
        )
    return number


def _serial_width(spec: str) -> int | None:
    for _text, name, format_spec, _conv in string.Formatter().parse(spec):
        if name == "serial" and format_spec and format_spec.rstrip("d").lstrip("0").isdigit():
            return int(format_spec.rstrip("d").lstrip("0"))
    return None


def next_serial(prefix: str) -> int:
    """The next serial under `prefix` (1 for a new one), atomically, in the caller's transaction."""
    dialect = db.engine.dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CertificateSerial)
    statement = (
        insert.values(prefix=prefix, last_serial=1)
        .on_conflict_do_update(
            index_elements=["prefix"],
            set_={"last_serial": CertificateSerial.last_serial + 1},
        )
        .returning(CertificateSerial.last_serial)
    )
    return db.session.execute(statement).scalar_one()
