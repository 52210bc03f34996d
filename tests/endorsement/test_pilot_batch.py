"""The pilot's whole class (156 workers) from final results to the bureau's endorsement."""

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from certify.accounts.models import Role
from certify.audit.chain import verify_chain
from certify.audit.models import AuditEvent
from certify.certificates.models import CertificateStatus
from certify.certificates.services import issue_pending_certificates
from certify.certificates.signing import init_keys, signature_param
from certify.cohorts.models import Enrolment
from certify.cohorts.services import enrol_roster
from certify.core import clock
from certify.endorsement import services
from certify.exams.services import schedule_session
from certify.extensions import db
from certify.results.models import Result, ResultStatus
from certify.verification.services import verify_certificate
from tests.classes import roster_csv, roster_rows
from tests.factories import make_user

PILOT_CLASS = 156


def test_a_class_of_156_is_endorsed_and_every_qr_check_shows_it(cohort, frozen_clock):
    report = enrol_roster(cohort, "pilot.csv", roster_csv(roster_rows(PILOT_CLASS, start=2000)))
    assert report.saved and report.enrolled == PILOT_CLASS, report.problems[:3]
    now = clock.now()
    session = schedule_session(cohort, now - timedelta(hours=3), now - timedelta(hours=1))
    # What publishing and finalising leave for a pass; the exams themselves are tested elsewhere.
    for user_id in db.session.scalars(
        sa.select(Enrolment.user_id).where(Enrolment.cohort_id == cohort.id)
    ):
        db.session.add(
            Result(
                session_id=session.id,
                user_id=user_id,
                theory_hundredths=8000,
                practical_hundredths=7500,
                passed=True,
                status=ResultStatus.FINAL,
                published_at=now - timedelta(days=8),
                publicity_ends_at=now - timedelta(days=1),
                finalized_at=now - timedelta(days=1),
            )
        )
    init_keys()
    admin = make_user(Role.ADMIN, username="office")
    reviewer = make_user(Role.HR, username="hr1")
    db.session.commit()

    certificates = [o.certificate for o in issue_pending_certificates(session, admin)]
    db.session.commit()
    assert len(certificates) == PILOT_CLASS
    assert len({c.number for c in certificates}) == PILOT_CLASS

    batch = services.submit_batch(services.submittable(session), admin, session=session)
    db.session.commit()
    assert len(batch.items) == PILOT_CLASS
    frozen_clock.advance(days=2)
    decided = services.decide_batch(batch, reviewer, services.Decisions(endorse_all=True))
    db.session.commit()
    assert len(decided) == PILOT_CLASS

    for certificate in certificates:
        assert certificate.status is CertificateStatus.ENDORSED
        check = verify_certificate(
            certificate.number, signature_param(certificate.key_id, certificate.signature)
        )
        body = check.to_json()
        assert body["verdict"] == "valid" and body["endorsed"] is True, body
        assert body["endorsed_on"] == "2026-11-25"

    trail = Counter(db.session.scalars(sa.select(AuditEvent.action)))
    for action in ("certificate.issued", "certificate.submitted", "certificate.endorsed"):
        assert trail[action] == PILOT_CLASS, action
    assert trail["batch.submitted"] == trail["batch.decided"] == 1
    assert verify_chain().ok
