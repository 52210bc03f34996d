"""`flask certificates verify FILE.pdf`: exit 0 only for a genuine, unaltered certificate."""

import http.server
import io
import json
import threading

import pypdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certify.certificates.render import PAYLOAD_NAME
from certify.certificates.services import (
    pdf_path,
    read_pdf,
    reissue_certificate,
    revoke_certificate,
    verify_url,
)
from certify.certificates.signing import b64url, rotate_keys
from certify.extensions import db
from certify.verification.offline import read_claim


def verify(app, *args):
    result = app.test_cli_runner().invoke(args=["certificates", "verify", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def jwks_server():
    """A tiny HTTP server publishing whatever JWKS the test puts in `documents[0]`."""
    documents = [{"keys": []}]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(documents[0]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json", documents
    server.shutdown()
    server.server_close()


def test_the_issued_pdf_is_valid_offline(app, certificate):
    result = verify(app, pdf_path(certificate), "--offline")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("有效 VALID")
    assert "--offline" in result.output and certificate.number in result.output
    assert certificate.holder_name not in result.output  # masked here too
    assert certificate.id_number not in result.output


def test_keys_from_the_published_jwks(app, client, certificate, jwks_server):
    url, documents = jwks_server
    documents[0] = client.get("/.well-known/jwks.json").get_json()
    result = verify(app, pdf_path(certificate), "--keys-url", url)
    assert result.exit_code == 0, result.output
    assert f"来自 from {url}" in result.output


def test_a_jwks_without_our_key_makes_it_invalid(app, certificate, jwks_server):
    url, documents = jwks_server
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    documents[0] = {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "kzzzzzz", "x": b64url(raw)}]}
    result = verify(app, pdf_path(certificate), "--keys-url", url)
    assert result.exit_code == 1
    assert result.output.startswith("无效 INVALID") and "unknown key" in result.output


def test_an_unreachable_keys_url_falls_back_to_the_local_keys(app, certificate):
    result = verify(app, pdf_path(certificate), "--keys-url", "http://127.0.0.1:9/")
    assert result.exit_code == 0, result.output
    assert "连不上 http://127.0.0.1:9/" in result.output and "fell back" in result.output


def test_one_changed_byte_is_caught(app, certificate, tmp_path):
    data = bytearray(read_pdf(certificate))
    data[len(data) // 2] ^= 0x01
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(bytes(data))
    result = verify(app, altered, "--offline")
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(("无效", "无法"))
    assert "DIFFERS" in result.output or "INVALID" in result.output


def test_a_forged_payload_is_invalid(app, certificate, tmp_path):
    """Someone edits the embedded data (a higher level) and re-attaches it."""
    reader = pypdf.PdfReader(io.BytesIO(read_pdf(certificate)))
    payload = json.loads(reader.attachments[PAYLOAD_NAME][0])
    payload["material"]["level"] = "一级/高级技师"
    writer = pypdf.PdfWriter()
    writer.append(reader)
    writer.add_attachment(PAYLOAD_NAME, json.dumps(payload).encode())
    forged = tmp_path / "forged.pdf"
    with forged.open("wb") as handle:
        writer.write(handle)
    result = verify(app, forged, "--offline")
    assert result.exit_code == 1
    assert result.output.startswith("无效 INVALID") and "signature mismatch" in result.output


def test_without_the_attachment_the_qr_code_is_read(app, certificate, tmp_path):
    reader = pypdf.PdfReader(io.BytesIO(read_pdf(certificate)))
    writer = pypdf.PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    stripped = io.BytesIO()
    writer.write(stripped)
    data = stripped.getvalue()
    assert PAYLOAD_NAME not in pypdf.PdfReader(io.BytesIO(data)).attachments
    claim = read_claim(data)
    assert claim.source == "qr" and claim.number == certificate.number
    assert (claim.key_id, claim.signature) == (certificate.key_id, certificate.signature)
    assert verify_url(certificate).endswith(claim.signature)
    path = tmp_path / "stripped.pdf"
    path.write_bytes(data)
    result = verify(app, path, "--offline")
    # The signature in the QR code holds, but these are not the issued bytes.
    assert result.exit_code == 1
    assert "二维码 QR code" in result.output and "签名 Signature：正确 OK" in result.output
    assert result.output.startswith("无法确认 NOT ORIGINAL")


def test_revoked_and_superseded_certificates_fail(app, certificate):
    new = reissue_certificate(certificate, "姓名更正")
    db.session.commit()
    result = verify(app, pdf_path(certificate), "--offline")
    assert result.exit_code == 1
    assert result.output.startswith("已撤销 REVOKED") and new.number in result.output
    assert verify(app, pdf_path(new), "--offline").exit_code == 0
    revoke_certificate(new.number, "证书作废，张三举报", code="issued_in_error")
    db.session.commit()
    result = verify(app, pdf_path(new), "--offline")
    assert result.exit_code == 1 and "撤销原因 Reason：错误发证" in result.output
    assert "张三" not in result.output  # the office's note stays internal


def test_an_old_certificate_verifies_after_rotation(app, certificate):
    rotate_keys()
    db.session.commit()
    assert verify(app, pdf_path(certificate), "--offline").exit_code == 0


@pytest.mark.parametrize(
    ("content", "verdict"),
    [
        (b"just some text", "NOT A PDF"),
        (b"", "NOT A PDF"),
        (b"%PDF-1.7\n%%EOF garbage", "NO SIGNATURE"),
    ],
)
def test_unreadable_files_get_a_clear_message(app, signing_key, tmp_path, content, verdict):
    path = tmp_path / "file.pdf"
    path.write_bytes(content)
    result = verify(app, path, "--offline")
    assert result.exit_code == 1
    assert verdict in result.output.splitlines()[0]


def test_a_missing_file_is_refused_by_the_command(app, tmp_path):
    result = app.test_cli_runner().invoke(
        args=["certificates", "verify", str(tmp_path / "nope.pdf")]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output


@pytest.mark.parametrize("document", [{"keys": ["x", 5]}, {"keys": 7}, [], "nonsense", {}])
def test_a_garbled_jwks_falls_back_to_the_local_keys(app, certificate, jwks_server, document):
    url, documents = jwks_server
    documents[0] = document
    result = verify(app, pdf_path(certificate), "--keys-url", url)
    assert result.exit_code == 0, result.output
    assert "fell back" in result.output
