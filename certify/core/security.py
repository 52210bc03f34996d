"""Security headers on every response, set in one after-request hook.

Pages get a Content-Security-Policy that allows scripts only from our own /static files (no
inline <script>, no on*= attributes: tests/security/test_headers.py greps the templates),
forbids plugins and framing, and keeps forms and <base> on this site. Styles may stay inline
(`style-src 'unsafe-inline'`): base.html hides the text-size buttons with a <noscript><style>,
and inline style cannot run code. `img-src data:` is for the QR codes the certificate pages
draw as data: URIs. Everything else (`connect-src`, `font-src`, `frame-src`, ...) falls back to
`default-src 'self'`: the app loads nothing from other hosts.

What is not a page (JSON, PDF, images, CSV, ZIP, scripts, ...) gets `default-src 'none'`:
nothing in it may load or run anything, even if a browser were tricked into rendering it as a
page (with nosniff it is not); uploaded class materials are served this way too. Chromium's
PDF viewer still shows a PDF under that policy (checked with Debian's Chromium, in the review
page's frame).

One response is meant to be framed: the batch PDF that the bureau's review page shows in an
<iframe> (templates/endorsement/review.html). It may be framed by our own pages only
(`frame-ancestors 'self'`, X-Frame-Options SAMEORIGIN). Every other response denies framing,
so no exam page or form can be clickjacked; exempting one endpoint keeps that true, where
'self' everywhere would let any page of the site frame any other.

The public verification pages carry a signature in the query (/v/NUMBER?sig=...) and the
publicity page an unguessable token in its path: they send `Referrer-Policy: same-origin`, so
no other site learns those addresses from a link followed there. Not `no-referrer`: the forms
on those pages (the PDF check, the lookup, the language switch) must keep sending a Referer,
which Flask-WTF requires on HTTPS posts (WTF_CSRF_SSL_STRICT).

HSTS is sent only when CERTIFY_ENV=production: on a laptop it would pin 127.0.0.1 to HTTPS.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request, session

# Personal files and their status (PDFs, credentials, packages, job results): never cached
# by a shared proxy or kept by the browser.
PRIVATE = {"Cache-Control": "private, no-store"}

PAGE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "img-src 'self' data:",
        "style-src 'self' 'unsafe-inline'",
    )
)
# style-src: the browsers' own viewers of an image or a text file style their page inline.
DATA_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
    )
)
FRAMEABLE_POLICY = DATA_POLICY.replace("frame-ancestors 'none'", "frame-ancestors 'self'")

# Responses our own pages show in an <iframe>.
FRAMEABLE_ENDPOINTS = frozenset({"endorsement.certificate_pdf"})
# Addresses that carry a secret or a signature: never leak them to another site.
PRIVATE_ADDRESS_ENDPOINTS = frozenset(
    {
        "verification.certificate",
        "verification.check_pdf",
        "verification.lookup",
        "results.publicity",
    }
)

# Exam papers, answers and results: never kept by the browser or a proxy, whoever asks (the
# public 公示 page included). Everything a logged-in user sees is personal too: on a shared
# exam-room PC, the back button after a logout must not show the last worker's pages.
NO_STORE_BLUEPRINTS = frozenset({"exams", "results", "api", "training"})


def keeps_out_of_caches() -> bool:
    if request.endpoint == "static":
        return False
    return request.blueprint in NO_STORE_BLUEPRINTS or "_user_id" in session


PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"


def content_security_policy(response: Response, frameable: bool) -> str:
    if response.mimetype == "text/html":
        return PAGE_POLICY
    return FRAMEABLE_POLICY if frameable else DATA_POLICY


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    frameable = request.endpoint in FRAMEABLE_ENDPOINTS
    headers.setdefault("Content-Security-Policy", content_security_policy(response, frameable))
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if frameable else "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault(
        "Referrer-Policy",
        "same-origin"
        if request.endpoint in PRIVATE_ADDRESS_ENDPOINTS
        else "strict-origin-when-cross-origin",
    )
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("CERTIFY_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if keeps_out_of_caches() and "no-store" not in headers.get("Cache-Control", ""):
        headers["Cache-Control"] = PRIVATE["Cache-Control"]
    return response


def init_security(app: Flask) -> None:
    app.after_request(set_security_headers)
