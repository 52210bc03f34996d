"""Security headers (certify/core/security.py), and templates that need no inline script."""

import re

from certify import PROJECT_ROOT
from certify.core.security import DATA_POLICY, FRAMEABLE_POLICY, HSTS, PAGE_POLICY

TEMPLATES = PROJECT_ROOT / "templates"
STATIC_JS = PROJECT_ROOT / "certify" / "static" / "js"
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^<>]*?\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
SCRIPT_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


def _directives(policy: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def test_templates_have_no_inline_script_nor_event_handler():
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in (
            (INLINE_SCRIPT, "an inline <script>"),
            (EVENT_HANDLER, "an on*= event handler"),
            (SCRIPT_URL, "a javascript: URL"),
        ):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(PROJECT_ROOT)}:{line}: {what}")
    assert not problems, (
        "The Content-Security-Policy runs scripts only from /static: move these into "
        "certify/static/js/*.js (data-* attributes carry values):\n" + "\n".join(problems)
    )


def test_the_scripts_build_no_code_from_strings():
    for path in sorted(STATIC_JS.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|set(?:Timeout|Interval)\(\s*[\"'`]", text), (
            path.name
        )


def test_the_page_policy_allows_scripts_from_this_site_only():
    policy = _directives(PAGE_POLICY)
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert policy["form-action"] == "'self'"
    assert "unsafe" not in policy["default-src"] + policy["script-src"]


def test_pages_carry_the_policy_and_the_other_headers(client):
    for path in ("/login", "/verify", "/no-such-page"):
        response = client.get(path)
        assert response.mimetype == "text/html", path
        headers = response.headers
        assert headers["Content-Security-Policy"] == PAGE_POLICY, path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert "camera=()" in headers["Permissions-Policy"]
        assert "microphone=()" in headers["Permissions-Policy"]
        assert "geolocation=()" in headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in headers  # not outside production
    assert client.get("/login").headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_addresses_with_a_signature_or_a_token_stay_on_this_site(client):
    """same-origin, not no-referrer: Flask-WTF refuses an HTTPS post without a Referer, and
    the PDF check, the lookup and the language switch are forms on these pages."""
    for path in ("/v/S000033030001265000001?sig=k1.AAAA", "/verify", "/publicity/unknown"):
        assert client.get(path).headers["Referrer-Policy"] == "same-origin", path


def test_json_and_files_may_load_nothing(client):
    response = client.get("/healthz")
    assert response.headers["Content-Security-Policy"] == DATA_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    api = client.get("/api/v1/openapi.json")
    assert api.headers["Content-Security-Policy"] == DATA_POLICY
    jwks = client.get("/.well-known/jwks.json")
    assert jwks.headers["Access-Control-Allow-Origin"] == "*"  # verifiers fetch it anywhere
    assert jwks.headers["Content-Security-Policy"] == DATA_POLICY
    css = client.get("/static/css/app.css")
    assert css.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_in_production(make_app):
    production = make_app(CERTIFY_ENV="production")
    client = production.test_client()
    for path in ("/login", "/healthz"):
        assert client.get(path).headers["Strict-Transport-Security"] == HSTS


def test_only_the_batch_pdf_may_be_framed_and_only_by_our_pages(client, world, login_as):
    """The review page shows each certificate PDF in an <iframe>; nothing else is framable."""
    login_as("hr")
    review = client.get(f"/endorsement/batches/{world.batch.id}")
    assert "<iframe" in review.get_data(as_text=True)
    assert review.headers["Content-Security-Policy"] == PAGE_POLICY  # frame-src: 'self'
    framed = client.get(f"/endorsement/batches/{world.batch.id}/pdf/{world.certificate.number}")
    assert framed.mimetype == "application/pdf"
    assert framed.headers["Content-Security-Policy"] == FRAMEABLE_POLICY
    assert "frame-ancestors 'self'" in FRAMEABLE_POLICY
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert framed.headers["X-Content-Type-Options"] == "nosniff"

    client.post("/logout")
    login_as("owner")
    download = client.get(f"/certificates/{world.certificate.number}/pdf")
    assert download.status_code == 200
    assert download.headers["Content-Security-Policy"] == DATA_POLICY
    assert download.headers["X-Frame-Options"] == "DENY"
    assert "no-store" in download.headers["Cache-Control"]
