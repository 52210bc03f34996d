"""Revoking: the public reads one of a fixed list of reasons, never the office's note; the
bureau's reviewers revoke only what was submitted to them."""

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.audit.models import AuditEvent
from certify.certificates import services
from certify.certificates.models import Certificate, CertificateStatus, RevocationReason
from certify.core import clock
from certify.core.errors import Forbidden, ValidationFailed
from certify.endorsement.services import submit_batch
from certify.extensions import db
from tests.certificates.conftest import pass_everyone
from tests.factories import make_user


@pytest.fixture
def office(app):
    return make_user(Role.ADMIN, username="office")


@pytest.fixture
def reviewer(app):
    return make_user(Role.HR, username="hr1")


def fresh(certificate):
    db.session.expire_all()
    return db.session.get(Certificate, certificate.id)


def public_json(client, certificate):
    return client.get(f"/v/{certificate.number}", headers={"Accept": "application/json"}).get_json()


# --- the fixed public reasons ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("issued_in_error", "错误发证"),
        ("corrected", "信息有误已更正"),
        ("improperly_obtained", "违规取得"),
        ("other", "其他"),
    ],
)
def test_each_public_reason_shows_its_fixed_label_only(client, certificate, code, label):
    services.revoke_certificate(certificate.number, "内部：王某举报，电话 13812345678", code=code)
    db.session.commit()
    body = public_json(client, certificate)
    assert body["revoked_reason"] == label and body["revoked_reason_code"] == code
    page = client.get(f"/v/{certificate.number}").get_data(as_text=True)
    assert label in page
    for text in (str(body), page):
        assert "王某" not in text and "13812345678" not in text


def test_an_unknown_code_is_refused_with_the_choices(certificate):
    with pytest.raises(ValidationFailed) as refused:
        services.revoke_certificate(certificate.number, "作弊", code="cheating")
    assert "improperly_obtained" in refused.value.message
    assert fresh(certificate).status is CertificateStatus.ISSUED


def test_rows_revoked_before_the_list_never_show_their_note(client, certificate):
    """Revoked with free text only (the code column was added later): "other" publicly."""
    certificate.revoke("考试作弊，经查属实", clock.now())
    certificate.revoked_reason_code = None
    db.session.commit()
    body = public_json(client, certificate)
    assert body["revoked_reason"] == "其他" and "考试作弊" not in str(body)
    status = client.get(f"/certificates/{certificate.number}/status").get_json()
    assert status["reason"] == "其他" and "考试作弊" not in str(status)


def test_a_superseded_row_from_before_the_list_reads_corrected(client, certificate):
    new = services.reissue_certificate(certificate, "身份证号录入错误")
    certificate.revoked_reason_code = None
    db.session.commit()
    body = public_json(client, certificate)
    assert body["revoked_reason"] == "信息有误已更正" and body["superseded_by"] == new.number


def test_the_audit_trail_keeps_both_the_code_and_the_note(certificate):
    services.revoke_certificate(certificate.number, "考试作弊", code="improperly_obtained")
    db.session.commit()
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "certificate.revoked")
    ).one()
    assert event.after["code"] == "improperly_obtained" and event.after["reason"] == "考试作弊"


def test_cli_revoke_takes_a_code_and_still_works_without_one(
    app, client, cohort, exam, trade, frozen_clock, signing_key
):
    pass_everyone(cohort, exam, trade, frozen_clock, more=1)
    first, second = (services.issue_certificate(r) for r in services.eligible_results(exam))
    db.session.commit()
    runner = app.test_cli_runner()
    coded = runner.invoke(
        args=[
            "certificates",
            "revoke",
            first.number,
            "--reason",
            "冒名顶替",
            "--code",
            "improperly_obtained",
        ]
    )
    assert coded.exit_code == 0, coded.output
    plain = runner.invoke(
        args=["certificates", "revoke", second.number, "--reason", "证书信息有误"]
    )
    assert plain.exit_code == 0, plain.output
    assert fresh(first).revoked_reason_code == "improperly_obtained"
    assert fresh(second).revoked_reason_code == "other"
    assert fresh(second).revoked_reason == "证书信息有误"
    bad = runner.invoke(
        args=["certificates", "revoke", first.number, "--reason", "x", "--code", "cheating"]
    )
    assert bad.exit_code == 2 and "issued_in_error" in bad.output
    assert public_json(client, first)["revoked_reason"] == "违规取得"


def test_the_revoke_form_offers_the_fixed_list(client, login, office, certificate):
    login("office")
    client.get("/?lang=en")
    page = client.get(f"/certificates/{certificate.number}").get_data(as_text=True)
    assert 'name="revoke-code"' in page
    for reason in RevocationReason:
        assert f'value="{reason.value}"' in page
    assert "never shown publicly" in page


# --- reviewers revoke only what was submitted to the bureau ------------------------------


def test_a_reviewer_cannot_revoke_a_certificate_never_submitted(certificate, reviewer):
    with pytest.raises(Forbidden) as refused:
        services.revoke_certificate(certificate.number, "冒名顶替", actor=reviewer)
    assert refused.value.code == "not_submitted_to_bureau"
    assert "只有评价机构可以撤销" in refused.value.message
    assert fresh(certificate).status is CertificateStatus.ISSUED


@pytest.mark.parametrize("state", ["submitted", "endorsed", "rejected"])
def test_a_reviewer_may_revoke_what_the_bureau_holds(certificate, office, reviewer, state):
    submit_batch([certificate], office)
    if state == "endorsed":
        certificate.endorse("温州市人力资源和社会保障局", clock.now())
    elif state == "rejected":
        certificate.reject("照片不清晰", clock.now())
    db.session.commit()
    services.revoke_certificate(
        certificate.number, "冒名顶替", actor=reviewer, code="improperly_obtained"
    )
    db.session.commit()
    assert fresh(certificate).status is CertificateStatus.REVOKED


def test_the_office_revokes_at_any_stage(certificate, office):
    services.revoke_certificate(
        certificate.number, "重复颁发", actor=office, code="issued_in_error"
    )
    assert certificate.status is CertificateStatus.REVOKED


def test_a_reviewer_posting_the_form_for_an_office_certificate_is_told_why(
    client, login, reviewer, certificate
):
    login("hr1")
    client.get("/?lang=en")
    response = client.post(
        f"/certificates/{certificate.number}/revoke",
        data={"revoke-reason": "冒名顶替", "revoke-confirm": "y", "revoke-code": "other"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "only the assessment office may revoke it" in response.get_data(as_text=True)
    assert fresh(certificate).status is CertificateStatus.ISSUED


def test_a_reviewer_form_without_a_code_gives_other_not_the_note(
    client, login, office, reviewer, certificate
):
    """The reviewers' page sends no code yet: the public reads "other", never the note."""
    submit_batch([certificate], office)
    db.session.commit()
    login("hr1")
    response = client.post(
        f"/certificates/{certificate.number}/revoke",
        data={"revoke-reason": "冒名顶替", "revoke-confirm": "y"},
    )
    assert response.status_code == 302
    revoked = fresh(certificate)
    assert revoked.status is CertificateStatus.REVOKED
    assert revoked.revoked_reason == "冒名顶替" and revoked.revoked_reason_code == "other"
    assert "冒名顶替" not in str(public_json(client, revoked))
