"""The endorsement pages: the office submits a session, the bureau endorses or rejects, the
office corrects and submits again; who may do what; the dashboards."""

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.audit.models import AuditEvent
from certify.certificates import services as certificates
from certify.certificates.models import Certificate, CertificateStatus
from certify.certificates.signing import jwks
from certify.cohorts.services import enrol_roster
from certify.endorsement import services
from certify.endorsement.models import BatchStatus, Decision, EndorsementBatch
from certify.endorsement.package import MANIFEST, ROSTER, check_package
from certify.exams import services as exams
from certify.extensions import db
from certify.results import services as results
from certify.results.models import Result
from tests.classes import roster_csv, roster_rows
from tests.factories import make_user

WORKER_PASSWORD = "my-own-pass-1"


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN, username="office")


@pytest.fixture
def reviewer(app):
    return make_user(Role.HR, username="hr1")


@pytest.fixture
def issued(cohort, worker, exam, trade, frozen_clock, signing_key):
    """Three workers of one session with final passes and issued certificates."""
    report = enrol_roster(cohort, "more.csv", roster_csv(roster_rows(2, start=910)))
    assert report.saved, report.problems
    db.session.commit()
    examiner = make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    for enrolment in cohort.enrolments:
        attempt = exams.start_attempt(exam, enrolment.user)
        for item in attempt.items:
            exams.save_answer(attempt, item.position, list(item.version.correct))
        exams.submit_attempt(attempt)
        results.record_practical_score(exam, enrolment.user, examiner, 82)
    exams.close_session(exam)  # 收卷: results wait for the exam
    results.publish_results(exam, 0)
    frozen_clock.advance(minutes=1)
    results.finalize_results(exam)
    db.session.commit()
    frozen_clock.advance(hours=1)
    made = [
        certificates.issue_certificate(result)
        for result in db.session.scalars(
            sa.select(Result).where(Result.session_id == exam.id).order_by(Result.id)
        )
    ]
    db.session.commit()
    return sorted(made, key=lambda c: c.number)


def as_user(client, login, username, password="correct-horse-7"):
    client.post("/logout")
    assert login(username, password).status_code == 302
    client.get("/?lang=en")  # English pages; the Chinese arrives with the translation run


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def all_batches():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(EndorsementBatch).order_by(EndorsementBatch.id)))


def verdict(app, client, certificate):
    url = certificates.verify_url(certificate).removeprefix(app.config["BASE_URL"])
    return client.get(url, headers={"Accept": "application/json"}).get_json()


def submit_through_page(client, exam, numbers, note=""):
    return client.post(
        f"/endorsement/submit?session={exam.id}", data={"numbers": numbers, "note": note}
    )


# --- the office submits ------------------------------------------------------------------


def test_admin_submits_a_session_through_the_page_and_downloads_the_package(
    client, login, admin, exam, issued
):
    numbers = [c.number for c in issued]
    as_user(client, login, "office")
    chooser = client.get("/endorsement/submit").get_data(as_text=True)
    assert f"/endorsement/submit?session={exam.id}" in chooser and "Certificates: 3" in chooser

    page = client.get(f"/endorsement/submit?session={exam.id}").get_data(as_text=True)
    for number in numbers:  # every issued certificate is ticked by default
        assert f'value="{number}" id="pick-{number}" checked' in page
    none = client.get(f"/endorsement/submit?session={exam.id}&select=none").get_data(as_text=True)
    assert " checked" not in none and numbers[0] in none

    response = submit_through_page(client, exam, numbers, note="2026年第一期")
    (batch,) = all_batches()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/endorsement/batches/{batch.id}"
    assert batch.status is BatchStatus.SUBMITTED and batch.session_id == exam.id
    assert batch.note == "2026年第一期" and batch.submitted_by.username == "office"
    assert sorted(item.certificate.number for item in batch.items) == numbers
    assert all(item.certificate.status is CertificateStatus.SUBMITTED for item in batch.items)

    shown = client.get(f"/endorsement/batches/{batch.id}").get_data(as_text=True)
    assert batch.reference in shown and "Not decided yet" in shown
    assert 'id="endorse-form"' not in shown and "/reject/" not in shown  # no reviewer controls

    download = client.get(f"/endorsement/batches/{batch.id}/package.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert f"{batch.reference}.zip" in download.headers["Content-Disposition"]
    data = download.data
    assert check_package(data, jwks()) == []
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = set(archive.namelist())
    assert {MANIFEST, ROSTER} | {f"certificates/{n}.pdf" for n in numbers} == names
    manifest = json.loads(archive.read(MANIFEST))
    assert manifest["batch"] == batch.reference
    for certificate in issued:
        pdf = archive.read(f"certificates/{certificate.number}.pdf")
        assert pdf == certificates.pdf_path(certificate).read_bytes()

    index = client.get("/endorsement/").get_data(as_text=True)
    assert batch.reference in index and 'data-count="submitted">1<' in index
    again = client.get(f"/endorsement/submit?session={exam.id}").get_data(as_text=True)
    assert "No issued certificates are waiting to be submitted." in again


def test_a_bad_submission_says_why_and_changes_nothing(client, login, admin, exam, issued):
    as_user(client, login, "office")
    empty = submit_through_page(client, exam, [])
    assert empty.status_code == 422
    assert "Choose at least one certificate." in empty.get_data(as_text=True)
    stranger = submit_through_page(client, exam, [issued[0].number, "S999"])
    assert stranger.status_code == 422
    assert "S999 is no longer waiting to be submitted" in stranger.get_data(as_text=True)
    assert all_batches() == []
    assert {fresh(Certificate, c.id).status for c in issued} == {CertificateStatus.ISSUED}
    assert client.get("/endorsement/submit?session=99999").status_code == 404


def test_a_partial_submission_leaves_the_rest_waiting(client, login, admin, exam, issued):
    as_user(client, login, "office")
    submit_through_page(client, exam, [issued[0].number])
    (batch,) = all_batches()
    assert [item.certificate.number for item in batch.items] == [issued[0].number]
    page = client.get(f"/endorsement/submit?session={exam.id}").get_data(as_text=True)
    assert issued[0].number not in page and issued[1].number in page


# --- the bureau reviews ------------------------------------------------------------------


def test_the_reviewer_endorses_all_and_the_qr_check_shows_it(
    app, client, login, admin, reviewer, exam, worker, issued
):
    batch = services.submit_batch(issued, admin, session=exam)
    db.session.commit()
    batch_id, first = batch.id, issued[0]
    as_user(client, login, "hr1")
    inbox = client.get("/endorsement/inbox").get_data(as_text=True)
    assert batch.reference in inbox and f"/endorsement/batches/{batch_id}" in inbox
    assert client.get("/endorsement/").headers["Location"] == "/endorsement/inbox"

    page = client.get(f"/endorsement/batches/{batch_id}").get_data(as_text=True)
    pdf_url = f"/endorsement/batches/{batch_id}/pdf/{first.number}"
    assert f'<iframe src="{pdf_url}"' in page
    assert first.id_number in page  # the reviewer compares the full number with the PDF
    for roster_value in ("男", "汉族", "初中", "温州某物流公司"):
        assert roster_value in page
    assert "82" in page  # the practical score
    assert 'id="endorse-form"' in page

    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"].startswith("inline")
    assert pdf.data == certificates.pdf_path(first).read_bytes()
    assert client.get(f"/endorsement/batches/{batch_id}/pdf/S999").status_code == 404

    unconfirmed = client.post(f"/endorsement/batches/{batch_id}/endorse", data={"endorse_all": 1})
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert fresh(Certificate, first.id).status is CertificateStatus.SUBMITTED

    done = client.post(
        f"/endorsement/batches/{batch_id}/endorse", data={"endorse_all": 1, "confirm": "y"}
    )
    assert done.status_code == 302
    batch = fresh(EndorsementBatch, batch_id)
    assert batch.status is BatchStatus.DECIDED
    assert {item.decision for item in batch.items} == {Decision.ENDORSED}
    assert {item.decided_by.username for item in batch.items} == {"hr1"}
    body = app.config["ENDORSING_BODY"]
    for certificate in issued:
        certificate = fresh(Certificate, certificate.id)
        assert certificate.status is CertificateStatus.ENDORSED
        answer = verdict(app, client, certificate)
        assert answer["verdict"] == "valid" and answer["endorsed"] is True
        assert answer["endorsed_by"] == body

    decided = client.get(f"/endorsement/batches/{batch_id}").get_data(as_text=True)
    assert 'id="endorse-form"' not in decided and "This batch is decided." in decided

    as_user(client, login, worker.username, WORKER_PASSWORD)
    mine = client.get("/certificates/mine").get_data(as_text=True)
    endorsed_on = fresh(Certificate, first.id).endorsed_on.isoformat()
    assert f"Endorsed by {body} on {endorsed_on}" in mine


def test_endorse_selected_needs_a_tick(client, login, admin, reviewer, exam, issued):
    batch = services.submit_batch(issued, admin, session=exam)
    db.session.commit()
    as_user(client, login, "hr1")
    url = f"/endorsement/batches/{batch.id}/endorse"
    nothing = client.post(url, data={"endorse_selected": 1, "confirm": "y"})
    assert nothing.status_code == 422 and "Tick the certificates to endorse" in nothing.get_data(
        as_text=True
    )
    one = client.post(
        url, data={"endorse_selected": 1, "confirm": "y", "numbers": [issued[1].number]}
    )
    assert one.status_code == 302
    batch = fresh(EndorsementBatch, batch.id)
    decisions = {item.certificate.number: item.decision for item in batch.items}
    assert decisions == {
        issued[0].number: Decision.PENDING,
        issued[1].number: Decision.ENDORSED,
        issued[2].number: Decision.PENDING,
    }
    assert batch.status is BatchStatus.SUBMITTED


def test_reject_reissue_and_submit_the_corrected_certificate_again(
    client, login, admin, reviewer, exam, issued
):
    wrong, *right = issued
    as_user(client, login, "office")
    submit_through_page(client, exam, [c.number for c in issued])
    (batch,) = all_batches()
    batch_id = batch.id

    as_user(client, login, "hr1")
    reject_url = f"/endorsement/batches/{batch_id}/reject/{wrong.number}"
    item_id = next(i.id for i in batch.items if i.certificate.number == wrong.number)
    blank = client.post(reject_url, data={f"reject-{item_id}-reason": "  "})
    assert blank.status_code == 422
    assert "Say why the certificate is rejected." in blank.get_data(as_text=True)
    assert fresh(Certificate, wrong.id).status is CertificateStatus.SUBMITTED

    reason = "姓名与身份证不一致"
    assert client.post(reject_url, data={f"reject-{item_id}-reason": reason}).status_code == 302
    assert fresh(Certificate, wrong.id).status is CertificateStatus.REJECTED
    rest = client.post(
        f"/endorsement/batches/{batch_id}/endorse",
        data={"endorse_selected": 1, "confirm": "y", "numbers": [c.number for c in right]},
    )
    assert rest.status_code == 302
    assert fresh(EndorsementBatch, batch_id).status is BatchStatus.DECIDED

    as_user(client, login, wrong.holder.username, WORKER_PASSWORD)
    mine = client.get("/certificates/mine").get_data(as_text=True)
    assert f"Rejected: {reason} (the office will correct it)" in mine

    as_user(client, login, "office")
    page = client.get(f"/endorsement/batches/{batch_id}").get_data(as_text=True)
    assert reason in page
    assert f'href="/certificates/{wrong.number}"' in page and "Correct and re-issue" in page
    assert "Submit corrected certificates" not in page  # nothing re-issued yet

    reissued = client.post(
        f"/certificates/{wrong.number}/reissue", data={"reissue-reason": "更正姓名"}
    )
    assert reissued.status_code == 302
    new = db.session.scalar(sa.select(Certificate).where(Certificate.supersedes_id == wrong.id))
    assert new is not None and new.status is CertificateStatus.ISSUED

    page = client.get(f"/endorsement/batches/{batch_id}").get_data(as_text=True)
    assert new.number in page and "Submit corrected certificates (1)" in page
    form = client.get("/endorsement/submit?corrected=1").get_data(as_text=True)
    assert f'value="{new.number}" id="pick-{new.number}" checked' in form
    assert f'value="{wrong.number}"' not in form

    again = client.post("/endorsement/submit?corrected=1", data={"numbers": [new.number]})
    assert again.status_code == 302
    _first, second = all_batches()
    assert [item.certificate.number for item in second.items] == [new.number]
    assert second.session_id == exam.id  # every certificate in it comes from that session
    assert fresh(Certificate, new.id).status is CertificateStatus.SUBMITTED


# --- who may decide ----------------------------------------------------------------------


def test_admins_cannot_decide_and_a_decided_batch_stays_decided(
    client, login, admin, reviewer, exam, issued
):
    batch = services.submit_batch(issued, admin, session=exam)
    db.session.commit()
    batch_id, item_id = batch.id, batch.items[0].id
    endorse_url = f"/endorsement/batches/{batch_id}/endorse"
    reject_url = f"/endorsement/batches/{batch_id}/reject/{issued[0].number}"

    as_user(client, login, "office")
    assert client.post(endorse_url, data={"endorse_all": 1, "confirm": "y"}).status_code == 403
    assert client.post(reject_url, data={f"reject-{item_id}-reason": "x"}).status_code == 403
    assert client.get("/endorsement/inbox").status_code == 403
    assert {fresh(Certificate, c.id).status for c in issued} == {CertificateStatus.SUBMITTED}

    as_user(client, login, "hr1")
    assert client.get("/endorsement/submit").status_code == 403
    assert client.get("/endorsement/deadlines").status_code == 403
    client.post(endorse_url, data={"endorse_all": 1, "confirm": "y"})
    decided_at = fresh(EndorsementBatch, batch_id).decided_at
    again = client.post(endorse_url, data={"endorse_all": 1, "confirm": "y"})
    assert again.status_code == 409
    assert "This batch is already decided." in again.get_data(as_text=True)
    late_reject = client.post(reject_url, data={f"reject-{item_id}-reason": "不对"})
    assert late_reject.status_code == 409
    batch = fresh(EndorsementBatch, batch_id)
    assert batch.decided_at == decided_at
    assert {item.decision for item in batch.items} == {Decision.ENDORSED}
    assert {c.status for c in (fresh(Certificate, c.id) for c in issued)} == {
        CertificateStatus.ENDORSED
    }

    worker_name = issued[0].holder.username
    as_user(client, login, worker_name, WORKER_PASSWORD)
    for url in (f"/endorsement/batches/{batch_id}", f"/endorsement/batches/{batch_id}/package.zip"):
        assert client.get(url).status_code == 403


def test_a_reviewer_revokes_and_the_check_shows_it_at_once(
    app, client, login, admin, reviewer, exam, issued
):
    batch = services.submit_batch(issued, admin, session=exam)
    services.decide_batch(batch, reviewer, services.Decisions(endorse_all=True))
    db.session.commit()
    target, batch_id = issued[0], batch.id
    back = f"/endorsement/batches/{batch_id}"

    as_user(client, login, "hr1")
    page = client.get(back).get_data(as_text=True)
    assert f'action="/certificates/{target.number}/revoke"' in page

    unconfirmed = client.post(
        f"/certificates/{target.number}/revoke",
        data={"revoke-reason": "冒名顶替", "next": back},
        follow_redirects=True,
    )
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert fresh(Certificate, target.id).status is CertificateStatus.ENDORSED

    response = client.post(
        f"/certificates/{target.number}/revoke",
        data={"revoke-reason": "冒名顶替", "revoke-confirm": "y", "next": back},
    )
    assert response.status_code == 302 and response.headers["Location"] == back
    revoked = fresh(Certificate, target.id)
    assert revoked.status is CertificateStatus.REVOKED and revoked.revoked_reason == "冒名顶替"
    answer = verdict(app, client, revoked)
    # The public reads a fixed reason ("other" when none was chosen), never the reviewer's note.
    assert answer["verdict"] == "revoked" and answer["revoked_reason_code"] == "other"
    assert "冒名顶替" not in str(answer)
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "certificate.revoked")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event.subject_id == str(target.id) and event.actor_username == "hr1"

    as_user(client, login, target.holder.username, WORKER_PASSWORD)
    refused = client.post(
        f"/certificates/{issued[1].number}/revoke",
        data={"revoke-reason": "x", "revoke-confirm": "y"},
    )
    assert refused.status_code == 403


# --- the inbox and the dashboards -------------------------------------------------------


def test_the_inbox_puts_the_batch_due_first_on_top_and_flags_overdue(
    client, login, admin, reviewer, exam, issued, frozen_clock
):
    later = services.submit_batch(issued[:1], admin)
    frozen_clock.advance(days=1)
    sooner = services.submit_batch(issued[1:], admin)
    sooner.review_due_at = later.review_due_at.replace(year=later.review_due_at.year - 1)
    db.session.commit()

    as_user(client, login, "hr1")
    inbox = client.get("/endorsement/inbox").get_data(as_text=True)
    assert inbox.index(sooner.reference) < inbox.index(later.reference)
    assert inbox.count("Overdue") == 1
    home = client.get("/").get_data(as_text=True)
    assert "Batches awaiting your review: 2" in home and "Overdue: 1" in home

    frozen_clock.advance(days=14)
    inbox = client.get("/endorsement/inbox").get_data(as_text=True)
    assert inbox.count("Overdue") == 2


def test_the_admin_home_shows_batches_by_state(client, login, admin, reviewer, exam, issued):
    services.submit_batch(issued[:1], admin)
    decided = services.submit_batch(issued[1:], admin)
    services.decide_batch(decided, reviewer, services.Decisions(endorse_all=True))
    db.session.commit()
    as_user(client, login, "office")
    home = client.get("/").get_data(as_text=True)
    assert 'id="endorsement-summary"' in home
    assert 'href="/endorsement/?status=submitted">Awaiting review</a></dt><dd>1<' in home
    assert 'href="/endorsement/?status=decided">Decided</a></dt><dd class="ok">1<' in home
    assert 'href="/endorsement/"' in home  # the nav link


def test_the_batch_list_is_paged_and_counts_each_batch_in_the_database(
    client, login, admin, reviewer, exam, issued, frozen_clock, monkeypatch
):
    first = services.submit_batch(issued[:2], admin)
    frozen_clock.advance(minutes=5)
    second = services.submit_batch(issued[2:], admin)
    services.decide_batch(first, reviewer, services.Decisions(endorse_all=True))
    db.session.commit()
    monkeypatch.setattr(services, "BATCHES_PER_PAGE", 1)
    as_user(client, login, "office")

    newest = client.get("/endorsement/").get_data(as_text=True)
    assert second.reference in newest and first.reference not in newest
    assert "Page 1 of 2" in newest and 'href="/endorsement/?page=2"' in newest
    older = client.get("/endorsement/?page=2").get_data(as_text=True)
    assert first.reference in older and second.reference not in older
    row = older[older.index(first.reference) :]
    assert row.index('data-label="Certificates">2<') < row.index('data-label="Endorsed">2<')
    assert 'href="/endorsement/?page=1"' in older

    decided = client.get("/endorsement/?status=decided").get_data(as_text=True)
    assert first.reference in decided and "Page 1 of" not in decided  # one page: no pager
    beyond = client.get("/endorsement/?page=99999999")
    assert beyond.status_code == 200 and "No batches yet." in beyond.get_data(as_text=True)

    as_user(client, login, "hr1")
    inbox = client.get("/endorsement/inbox").get_data(as_text=True)
    assert f"{first.reference}</a>" in inbox and "Endorsed 2 · Rejected 0" in inbox
