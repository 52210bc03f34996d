"""Public verification pages: no login, built for a phone held up to a certificate.

`/v/<number>?sig=...` is what the QR code opens; `/verify` is for people holding a paper
copy or only a name and ID number; `/.well-known/jwks.json` publishes the keys so anyone can
check a signature without us.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _

from certify.catalog.models import CertificateType
from certify.certificates.signing import jwks
from certify.extensions import limiter
from certify.verification.forms import HolderLookupForm, NumberLookupForm, PdfCheckForm
from certify.verification.limits import has_valid_signature, lookup_limit, request_verification
from certify.verification.services import (
    Verdict,
    Verification,
    check_pdf_bytes,
    lookup_by_holder,
    verify_certificate,
)

bp = Blueprint("verification", __name__)
JWKS_MAX_AGE = 300


@bp.context_processor
def helpers() -> dict[str, object]:
    return {
        "long_date": long_date,
        "certificate_type_label": certificate_type_label,
        "Verdict": Verdict,
    }


def long_date(day: date | None) -> str:
    """2026年11月23日 in Chinese, November 23, 2026 in English."""
    return format_date(day, "long") if day else ""


def certificate_type_label(value: str) -> str:
    try:
        return CertificateType(value).label
    except ValueError:
        return value


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def verification_json(verification: Verification):
    response = jsonify(verification.to_json())
    response.headers["Cache-Control"] = "no-store"  # a revocation must show at once
    response.vary.add("Accept")
    return response


@bp.get("/v/<number>")
@lookup_limit(exempt_when=has_valid_signature)
def certificate(number: str):
    """The QR code's target: one verdict, then the masked facts."""
    sig = request.args.get("sig") or None
    verification = request_verification(number, sig)
    if wants_json():
        return verification_json(verification)
    response = render_template(
        "verification/certificate.html",
        verification=verification,
        upload_form=PdfCheckForm(sig=sig),
    )
    return response, 200, {"Cache-Control": "no-store", "Vary": "Accept"}


@bp.post("/v/<number>/pdf")
@lookup_limit()
def check_pdf(number: str):
    """Are these the exact bytes we issued? The upload is read in memory and dropped."""
    form = PdfCheckForm()
    verification = verify_certificate(number, form.sig.data or None)
    outcome = None
    if verification.facts is not None and form.validate_on_submit():
        outcome = "same" if check_pdf_bytes(verification.number, form.pdf.content) else "differs"
    status = 422 if form.errors else 200
    return (
        render_template(
            "verification/certificate.html",
            verification=verification,
            upload_form=form,
            pdf_outcome=outcome,
        ),
        status,
        {"Cache-Control": "no-store"},
    )


@bp.route("/verify", methods=["GET", "POST"])
@lookup_limit(methods=["POST"])
def lookup():
    """Look up by number, or by name + ID number; answers come from the register alone."""
    number_form = NumberLookupForm(prefix="n")
    holder_form = HolderLookupForm(prefix="h")
    searched, results = None, []
    if number_form.submit.data and number_form.validate_on_submit():
        searched, results = "number", [verify_certificate(number_form.number.data, None)]
    elif holder_form.submit.data and holder_form.validate_on_submit():
        searched = "holder"
        results = lookup_by_holder(holder_form.name.data, holder_form.id_number.data)
        holder_form.name.data = holder_form.id_number.data = ""  # never echo them back
    return render_template(
        "verification/lookup.html",
        number_form=number_form,
        holder_form=holder_form,
        searched=searched,
        results=results,
        upload_form=PdfCheckForm(),
    ), (422 if number_form.errors or holder_form.errors else 200)


@bp.get("/.well-known/jwks.json")
@limiter.exempt
def jwks_document():
    """The public keys, retired ones too: certificates signed before a rotation still check."""
    response = jsonify(jwks())
    response.cache_control.public = True
    response.cache_control.max_age = JWKS_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.errorhandler(429)
def too_many_lookups(exc):
    """Say what happened and what still works (scanning the QR code is never limited)."""
    message = _("Too many tries. Wait a minute, then try again.")
    if wants_json():
        response = jsonify(error={"code": "too_many_requests", "message": message})
    else:
        response = render_template("verification/too_many.html", message=message)
    return response, 429
