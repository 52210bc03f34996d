"""A trade's certificate number format: the defaults and the rule a format must follow.

They belong to the catalog, where a trade's format is set; certificates.numbering fills them
in when a certificate is issued.
"""

from __future__ import annotations

import string

from flask_babel import gettext as _

from certify.catalog.models import CertificateType, Trade

LEVEL_FORMAT = "{kind}{institution}{province}{site}{yy}{level}{serial:06d}"
SPECIAL_FORMAT = "ZX{province}{site}{yy}{serial:06d}"
FIELDS = frozenset({"kind", "institution", "province", "site", "yy", "yyyy", "level", "serial"})


def number_format(trade: Trade) -> str:
    if trade.certificate_number_format:
        return trade.certificate_number_format
    return LEVEL_FORMAT if trade.certificate_type is CertificateType.LEVEL else SPECIAL_FORMAT


def format_problem(template: str) -> str | None:
    """Why a number format cannot be used, or None. Shown where a trade's format is set."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        return _("The number format has an unmatched brace.")
    names = [name for _text, name, _spec, _conv in parts if name is not None]
    unknown = sorted(set(names) - FIELDS)
    if unknown:
        return _(
            "Unknown field %(field)s in the number format; use %(fields)s.",
            field="{" + unknown[0] + "}",
            fields=", ".join("{" + f + "}" for f in sorted(FIELDS)),
        )
    if names.count("serial") != 1 or names[-1] != "serial":
        return _("The number format needs exactly one {serial}, at its end.")
    return None
