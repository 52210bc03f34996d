"""The one certificate renderer: a WeasyPrint page from `templates/certificates/`.

The signed payload (the material fields, key id and signature) is embedded in the PDF as an
attachment, so `certificates verify FILE.pdf` can check a certificate without a camera and
without the register; the QR code carries the same number and signature as a link. The page
itself is drawn from the version-2 material (certificates/face.py): what is printed is what
a version-2 signature covers.
"""

from __future__ import annotations

import json

from flask import render_template
from flask_babel import force_locale

from certify.certificates.face import printed_face
from certify.certificates.models import Certificate
from certify.core.pdf import qr_data_uri, render_pdf

PAYLOAD_NAME = "certify-certificate.json"


def payload_type(version: int) -> str:
    """The attachment's "type": one per payload version, as the signature's label."""
    return f"certify-certificate-v{version}"


def signed_payload(certificate: Certificate, url: str) -> dict:
    return {
        "type": payload_type(certificate.payload_version or 1),
        "material": certificate.material(),
        "key_id": certificate.key_id,
        "signature": certificate.signature,
        "verify_url": url,
    }


def certificate_html(certificate: Certificate, url: str) -> str:
    return page_html(certificate.material(2), certificate.key_id, url)


def page_html(material: dict, key_id: str, url: str) -> str:
    """The page of a version-2 material: every value printed comes from it."""
    with force_locale("zh"):  # the certificate is a Chinese document, whoever clicks
        return render_template(
            "certificates/certificate.html",
            face=printed_face(material),
            key_id=key_id,
            verify_url=url,
            qr=qr_data_uri(url, box_size=1),  # scaled up crisply: image-rendering: pixelated
        )


def render_certificate_pdf(certificate: Certificate, url: str) -> bytes:
    payload = json.dumps(signed_payload(certificate, url), ensure_ascii=False, indent=1)
    return render_pdf(
        certificate_html(certificate, url), attachments={PAYLOAD_NAME: payload.encode("utf-8")}
    )
