"""The path from a final pass to the bureau's endorsement, through services and the CLI."""

import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from certify.accounts.models import Role
from certify.audit.models import AuditEvent
from certify.certificates.models import CertificateStatus
from certify.certificates.services import reissue_certificate, verify_url
from certify.certificates.signing import jwks, public_key_from, unb64url
from certify.core.errors import Conflict, Forbidden, ValidationFailed
from certify.endorsement import services
from certify.endorsement.models import BatchStatus, Decision, EndorsementBatch
from certify.endorsement.package import MANIFEST, ROSTER, check_package
from certify.extensions import db
from certify.notifications.models import Notification
from tests.factories import make_user


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN, username="office")


@pytest.fixture
def reviewer(app):
    return make_user(Role.HR, username="hr1")


def verdict(client, certificate):
    url = verify_url(certificate).removeprefix("http://127.0.0.1:5000")
    return client.get(url, headers={"Accept": "application/json"}).get_json()


def actions(subject_type):
    return db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.subject_type == subject_type)
        .order_by(AuditEvent.id)
    ).all()


def test_submit_package_endorse_and_the_qr_check_shows_it(client, certificate, admin, reviewer):
    batch = services.submit_batch([certificate], admin)
    db.session.commit()
    assert certificate.status is CertificateStatus.SUBMITTED
    assert batch.reference.startswith("PB2026-") and batch.status is BatchStatus.SUBMITTED
    assert verdict(client, certificate)["endorsed"] is False

    data = services.read_package(batch)
    assert check_package(data, jwks()) == []
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read(MANIFEST))
    assert manifest["certificates"][0]["number"] == certificate.number
    assert archive.read(f"certificates/{certificate.number}.pdf")[:5] == b"%PDF-"
    sheet = load_workbook(io.BytesIO(archive.read(ROSTER))).active
    header, row = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    record = dict(zip(header, row, strict=True))
    assert record["证件号码"] == certificate.id_number and record["证书编号"] == certificate.number
    assert record["理论知识成绩"] == 100 and record["操作技能成绩"] == 82

    with pytest.raises(Forbidden):
        services.decide_batch(batch, admin, services.Decisions(endorse_all=True))
    (item,) = services.decide_batch(batch, reviewer, services.Decisions(endorse_all=True))
    db.session.commit()
    assert item.decision is Decision.ENDORSED and item.decided_by == reviewer
    assert batch.status is BatchStatus.DECIDED
    assert certificate.status is CertificateStatus.ENDORSED
    assert certificate.endorsed_by == "温州市人力资源和社会保障局"
    body = verdict(client, certificate)
    assert body["verdict"] == "valid" and body["endorsed"] is True
    assert (
        body["endorsed_by"] == "温州市人力资源和社会保障局" and body["endorsed_on"] == "2026-11-23"
    )

    key = public_key_from(jwks()["keys"][0]["x"])
    key.verify(unb64url(item.decision_signature), services.decision_payload(item))
    with pytest.raises(Conflict):
        services.decide_batch(batch, reviewer, services.Decisions(endorse_all=True))
    assert actions("certificates")[-2:] == ["certificate.submitted", "certificate.endorsed"]
    assert actions("endorsement_batches") == ["batch.submitted", "batch.decided"]
    kinds = db.session.scalars(sa.select(Notification.kind).order_by(Notification.id)).all()
    assert kinds == ["batch_submitted", "certificate_endorsed", "batch_decided"]


def test_a_rejected_certificate_is_reissued_and_submitted_again(
    client, certificate, admin, reviewer
):
    first = services.submit_batch([certificate], admin)
    with pytest.raises(ValidationFailed):
        services.decide_batch(first, reviewer, services.Decisions(reject={certificate.number: " "}))
    services.decide_batch(
        first, reviewer, services.Decisions(reject={certificate.number: "照片不清晰"})
    )
    db.session.commit()
    assert certificate.status is CertificateStatus.REJECTED
    assert verdict(client, certificate)["verdict"] == "rejected"
    with pytest.raises(ValidationFailed):
        services.submit_batch([certificate], admin)  # only issued certificates go again

    corrected = reissue_certificate(certificate, "更换照片", admin)
    second = services.submit_batch([corrected], admin)
    services.decide_batch(second, reviewer, services.Decisions(endorse={corrected.number}))
    db.session.commit()
    assert corrected.status is CertificateStatus.ENDORSED and certificate.is_revoked
    assert verdict(client, corrected)["endorsed"] is True
    assert verdict(client, certificate)["verdict"] == "revoked"


def test_a_changed_package_is_caught(certificate, admin):
    batch = services.submit_batch([certificate], admin)
    db.session.commit()
    data = services.read_package(batch)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as tampered:
        for name in source.namelist():
            content = source.read(name)
            if name.endswith(".pdf"):
                content += b"\n%edited"
            tampered.writestr(name, content)
    assert any("changed" in p for p in check_package(out.getvalue(), jwks()))
    manifest = json.loads(source.read(MANIFEST))
    manifest["batch"] = "PB2026-9999"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as forged:
        for name in source.namelist():
            forged.writestr(name, json.dumps(manifest) if name == MANIFEST else source.read(name))
    assert any("signature" in p for p in check_package(out.getvalue(), jwks()))
    services.package_path(batch).write_bytes(data + b"x")
    with pytest.raises(Conflict):
        services.read_package(batch)


def test_cli_submit_and_decide(app, certificate, admin, reviewer, tmp_path):
    runner = app.test_cli_runner()
    package = tmp_path / "batch.zip"
    submitted = runner.invoke(
        args=["endorsement", "submit", certificate.number, "-o", str(package)]
    )
    assert submitted.exit_code == 0, submitted.output
    batch_id = int(submitted.stdout.strip())
    assert check_package(package.read_bytes(), jwks()) == []
    again = runner.invoke(args=["endorsement", "submit", certificate.number, "-o", str(package)])
    assert again.exit_code == 1 and certificate.number in again.output
    assert runner.invoke(args=["endorsement", "submit", "NOPE1", "-o", str(package)]).exit_code == 1

    wrong_role = runner.invoke(
        args=["endorsement", "decide", str(batch_id), "--reviewer", "office", "--endorse-all"]
    )
    assert wrong_role.exit_code == 1 and "hr" in wrong_role.output
    nothing = runner.invoke(args=["endorsement", "decide", str(batch_id), "--reviewer", "hr1"])
    assert nothing.exit_code == 1
    decided = runner.invoke(
        args=[
            "endorsement",
            "decide",
            str(batch_id),
            "--reviewer",
            "hr1",
            "--endorse",
            certificate.number,
        ]
    )
    assert decided.exit_code == 0, decided.output
    assert decided.stdout.strip() == f"{certificate.number}\tendorsed"
    db.session.expire_all()
    assert db.session.get(EndorsementBatch, batch_id).status is BatchStatus.DECIDED
