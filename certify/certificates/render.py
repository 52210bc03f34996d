"""The one certificate renderer: a WeasyPrint page from `templates/certificates/`.

The signed payload (the material fields, key id and signature) is embedded in the PDF as an
attachment, so `certificates verify FILE.pdf` can check a certificate without a camera and
without the register; the QR code carries the same number and signature as a link.
"""

from __future__ import annotations

import json

from flask import render_template
from flask_babel import force_locale

from certify.certificates.models import Certificate
from certify.core.pdf import qr_data_uri, render_pdf

PAYLOAD_NAME = "certify-certificate.json"


def signed_payload(certificate: Certificate, url: str) -> dict:
    return {
        "type": "certify-certificate-v1",
        "material": certificate.material(),
        "key_id": certificate.key_id,
        "signature": certificate.signature,
        "verify_url": url,
    }


def certificate_html(certificate: Certificate, url: str) -> str:
    with force_locale("zh"):  # the certificate is a Chinese document, whoever clicks
        return render_template(
            "certificates/certificate.html",
            certificate=certificate,
            verify_url=url,
            qr=qr_data_uri(url, box_size=1),  # scaled up crisply: image-rendering: pixelated
        )


def render_certificate_pdf(certificate: Certificate, url: str) -> bytes:
    payload = json.dumps(signed_payload(certificate, url), ensure_ascii=False, indent=1)
    return render_pdf(
        certificate_html(certificate, url), attachments={PAYLOAD_NAME: payload.encode("utf-8")}
    )
