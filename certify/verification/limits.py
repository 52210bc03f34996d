"""The one rate limit every anonymous lookup counts against.

Certificate numbers are sequential, so a page that answers "valid, 王*明, 仓储管理员" for any
number would let someone walk the whole register. The QR link is different: its signature
proves the visitor holds (a copy of) the certificate, so scanning stays unlimited. Lookups
by number, by name + ID number, PDF uploads, and /v/ or API hits without a good signature
all draw from one shared budget per client (VERIFY_LOOKUP_LIMIT).

Flask-Limiter evaluates `exempt_when` before the view runs, so the signature is checked
there and the verdict is kept on `g` for the view: one check per request, not two.
"""

from __future__ import annotations

from flask import current_app, g, request
from flask_limiter import RouteLimit

from certify.config import DEFAULT_LOOKUP_LIMIT
from certify.extensions import limiter
from certify.verification.services import Verdict, Verification, verify_certificate

SCOPE = "verification-lookup"
SIGNED_VERDICTS = frozenset({Verdict.VALID, Verdict.REVOKED, Verdict.REJECTED})


def lookup_limit_value() -> str:
    return current_app.config.get("VERIFY_LOOKUP_LIMIT") or DEFAULT_LOOKUP_LIMIT


def lookup_limit(**options) -> RouteLimit:
    """A decorator adding the shared lookup budget to a route (options as for shared_limit)."""
    return limiter.shared_limit(lookup_limit_value, scope=SCOPE, **options)


def request_verification(number: str, sig: str | None) -> Verification:
    """verify_certificate(), remembered for the rest of the request."""
    cache = g.setdefault("verifications", {})
    key = (number, sig or None)
    if key not in cache:
        cache[key] = verify_certificate(number, sig or None)
    return cache[key]


def has_valid_signature() -> bool:
    """exempt_when for /v/<number> and the API: a link whose signature holds is free."""
    number = (request.view_args or {}).get("number")
    sig = request.args.get("sig")
    if not number or not sig:
        return False
    verification = request_verification(number, sig)
    return verification.signature_checked and verification.verdict in SIGNED_VERDICTS
