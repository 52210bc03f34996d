"""The certificate pages: the worker's downloads, issuing a session, revoking and re-issuing."""

import hashlib
import io
import threading
import zipfile
from collections import Counter

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.certificates import credentials, services
from certify.certificates import views as certificate_views
from certify.certificates.models import Certificate, CertificateStatus
from certify.extensions import db
from tests.certificates.conftest import pass_everyone
from tests.factories import make_user

WORKER_PASSWORD = "my-own-pass-1"


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN, username="boss")


@pytest.fixture
def session_passes(cohort, worker, exam, trade, frozen_clock, signing_key):
    """Three workers (the fixture's and two more) with final passes, no certificates yet."""
    return pass_everyone(cohort, exam, trade, frozen_clock, more=2)


def _certificates():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))


def _english(client):
    """Pages in English: the Chinese of new strings arrives with the next translation run."""
    client.get("/?lang=en")


# --- the worker's page and downloads ---------------------------------------------------------


def test_a_worker_sees_and_downloads_only_their_own(client, login, session_passes, admin):
    first, second = session_passes[0], session_passes[1]
    from certify.results.models import Result

    mine = {}
    for person in (first, second):
        result = db.session.scalar(sa.select(Result).where(Result.user_id == person.id))
        mine[person.id] = services.issue_certificate(result)
    db.session.commit()
    own, other = mine[first.id], mine[second.id]

    login(first.username, WORKER_PASSWORD)
    _english(client)
    page = client.get("/certificates/mine")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert own.number in text and other.number not in text
    assert services.verify_url(own) in text  # the share link
    assert "data:image/png;base64," in text  # its QR code
    assert text.count("My certificates") >= 2  # the nav and the title

    for path in ("pdf", "credential.json"):
        refused = client.get(f"/certificates/{other.number}/{path}")
        assert refused.status_code == 404
        assert other.number in refused.get_data(as_text=True)  # a message, not a bare 404
        assert client.get(f"/certificates/{own.number}/{path}").status_code == 200


def test_the_pdf_download_is_exactly_the_stored_file(client, login, worker, certificate):
    login(worker.username, WORKER_PASSWORD)
    response = client.get(f"/certificates/{certificate.number}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and f"{certificate.number}.pdf" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    assert response.data == services.pdf_path(certificate).read_bytes()
    assert hashlib.sha256(response.data).hexdigest() == certificate.pdf_sha256


def test_an_altered_pdf_is_refused_with_a_message(client, login, worker, certificate):
    path = services.pdf_path(certificate)
    path.write_bytes(path.read_bytes() + b"%tampered")
    login(worker.username, WORKER_PASSWORD)
    response = client.get(f"/certificates/{certificate.number}/pdf")
    assert response.status_code == 409
    assert certificate.number in response.get_data(as_text=True)


def test_the_holder_downloads_a_credential_that_verifies(client, login, worker, certificate):
    login(worker.username, WORKER_PASSWORD)
    response = client.get(f"/certificates/{certificate.number}/credential.json")
    assert response.status_code == 200
    assert f"{certificate.number}.json" in response.headers["Content-Disposition"]
    document = response.get_json(force=True)
    assert credentials.verify_credential(document)
    assert certificate.id_number not in response.get_data(as_text=True)


def test_a_revoked_certificate_is_marked_and_has_no_share_or_credential(
    client, login, worker, certificate
):
    services.revoke_certificate(certificate.number, "证件有误，见内部记录", code="issued_in_error")
    db.session.commit()
    login(worker.username, WORKER_PASSWORD)
    _english(client)
    text = client.get("/certificates/mine").get_data(as_text=True)
    assert "No longer valid" in text and "Issued in error" in text and "is-revoked" in text
    assert "内部记录" not in text  # the office's note is internal
    assert services.verify_url(certificate) not in text
    refused = client.get(f"/certificates/{certificate.number}/credential.json")
    assert refused.status_code == 409 and certificate.number in refused.get_data(as_text=True)


def test_a_worker_without_certificates_gets_a_plain_explanation(client, login, worker):
    login(worker.username, WORKER_PASSWORD)
    _english(client)
    response = client.get("/certificates/mine")
    assert response.status_code == 200
    assert "You have no certificate yet." in response.get_data(as_text=True)


# --- access ------------------------------------------------------------------------------


def test_access_rules(client, login, worker, certificate, exam, trainer, admin):
    admin_pages = [
        ("GET", "/certificates/"),
        ("GET", f"/certificates/{certificate.number}"),
        ("GET", f"/certificates/sessions/{exam.id}"),
        ("GET", f"/certificates/sessions/{exam.id}/certificates.zip"),
        ("POST", f"/certificates/sessions/{exam.id}/issue"),
        ("POST", f"/certificates/{certificate.number}/revoke"),
        ("POST", f"/certificates/{certificate.number}/reissue"),
    ]
    worker_pages = [
        ("GET", "/certificates/mine"),
        ("GET", f"/certificates/{certificate.number}/pdf"),
        ("GET", f"/certificates/{certificate.number}/credential.json"),
    ]
    for method, url in admin_pages + worker_pages:
        response = client.open(url, method=method)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login"), url
    login(worker.username, WORKER_PASSWORD)
    for method, url in admin_pages:
        response = client.open(url, method=method)
        assert response.status_code == 403, url
        assert "你没有权限查看这个页面" in response.get_data(as_text=True)
    client.post("/logout")
    login("teacher")
    for method, url in worker_pages:
        assert client.open(url, method=method).status_code == 403, url
    client.post("/logout")
    login("boss")
    assert client.get("/certificates/mine").status_code == 403  # an admin has no own page
    assert client.get(f"/certificates/{certificate.number}/pdf").status_code == 200
    assert client.get(f"/certificates/{certificate.number}").status_code == 200
    missing = client.get("/certificates/NOSUCH0001")
    assert missing.status_code == 404 and "NOSUCH0001" in missing.get_data(as_text=True)
    assert client.get("/certificates/sessions/99999").status_code == 404
    assert len(_certificates()) == 1  # nothing above changed anything


def test_the_public_json_needs_no_login(client, certificate):
    assert client.get("/certificates/issuer").status_code == 200
    assert client.get(f"/certificates/{certificate.number}/status").status_code == 200


# --- issuing a session -------------------------------------------------------------------


def test_issue_all_in_chunks_reaches_zero_and_issues_each_pass_once(
    client, login, admin, exam, session_passes, monkeypatch
):
    monkeypatch.setattr(certificate_views, "CHUNK_SIZE", 2)
    login("boss")
    page = client.get(f"/certificates/sessions/{exam.id}").get_data(as_text=True)
    assert "data-issue-chunks" in page and "<progress" in page
    replies = []
    for _ in range(3):
        response = client.post(
            f"/certificates/sessions/{exam.id}/issue",
            data={"chunk": "1"},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 200
        replies.append(response.get_json())
    assert [(r["issued"], r["remaining"], r["total"]) for r in replies] == [
        (2, 1, 3),
        (1, 0, 3),
        (0, 0, 3),
    ]
    issued = _certificates()
    assert sorted(replies[0]["numbers"] + replies[1]["numbers"]) == sorted(c.number for c in issued)
    assert Counter(c.result_id for c in issued).most_common(1)[0][1] == 1
    assert {c.user_id for c in issued} == {w.id for w in session_passes}
    page = client.get(f"/certificates/sessions/{exam.id}").get_data(as_text=True)
    assert all(c.number in page for c in issued)


def test_two_issue_runs_at_once_never_issue_twice(app, admin, exam, session_passes):
    """Two admins (or two tabs) press "issue all" at the same moment."""
    clients = [app.test_client(), app.test_client()]
    for each in clients:
        each.post("/login", data={"login": "boss", "password": "correct-horse-7"})
    url = f"/certificates/sessions/{exam.id}/issue"
    replies, barrier = [], threading.Barrier(2)

    def run(each):
        barrier.wait()
        response = each.post(url, data={"chunk": "1"}, headers={"Accept": "application/json"})
        replies.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=run, args=(each,)) for each in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [status for status, _body in replies] == [200, 200]
    assert sum(body["issued"] for _status, body in replies) == 3
    assert all(body["remaining"] == 0 for _status, body in replies)
    issued = _certificates()
    assert len(issued) == 3 and len({c.result_id for c in issued}) == 3


def test_issue_all_without_javascript_issues_everything_and_flashes(
    client, login, admin, exam, session_passes
):
    login("boss")
    _english(client)
    response = client.post(f"/certificates/sessions/{exam.id}/issue")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/certificates/sessions/{exam.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "3 certificates issued." in page
    assert len(_certificates()) == 3
    again = client.post(f"/certificates/sessions/{exam.id}/issue", follow_redirects=True)
    assert again.status_code == 200 and len(_certificates()) == 3
    assert "already has its certificate" in again.get_data(as_text=True)


def test_a_worker_without_an_id_number_is_reported_not_fatal(
    client, login, admin, exam, session_passes
):
    missing = session_passes[1]
    missing.id_number = None
    db.session.commit()
    login("boss")
    reply = client.post(
        f"/certificates/sessions/{exam.id}/issue",
        data={"chunk": "1"},
        headers={"Accept": "application/json"},
    ).get_json()
    assert reply["issued"] == 2 and reply["remaining"] == 1
    assert len(reply["problems"]) == 1 and missing.username in reply["problems"][0]
    assert {c.user_id for c in _certificates()} == {session_passes[0].id, session_passes[2].id}


def test_the_zip_holds_every_valid_certificate_of_the_session(
    client, login, admin, exam, session_passes
):
    login("boss")
    client.post(f"/certificates/sessions/{exam.id}/issue")
    issued = _certificates()
    response = client.get(f"/certificates/sessions/{exam.id}/certificates.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == sorted(f"{c.number}.pdf" for c in issued)
    for certificate in issued:
        data = archive.read(f"{certificate.number}.pdf")
        assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
    services.revoke_certificate(issued[0].number, "重复颁发")
    db.session.commit()
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"/certificates/sessions/{exam.id}/certificates.zip").data)
    )
    assert f"{issued[0].number}.pdf" not in archive.namelist()
    assert len(archive.namelist()) == 2


def test_an_empty_session_zip_explains_itself(client, login, admin, exam):
    login("boss")
    _english(client)
    response = client.get(
        f"/certificates/sessions/{exam.id}/certificates.zip", follow_redirects=True
    )
    assert response.status_code == 200
    assert "There are no certificates to download yet." in response.get_data(as_text=True)


# --- revoking and re-issuing -------------------------------------------------------------


def test_revoking_needs_a_reason_and_a_tick(client, login, admin, certificate):
    login("boss")
    _english(client)
    url = f"/certificates/{certificate.number}/revoke"
    no_reason = client.post(url, data={"revoke-reason": " ", "revoke-confirm": "y"})
    assert no_reason.status_code == 422 and "Give a reason." in no_reason.get_data(as_text=True)
    no_tick = client.post(url, data={"revoke-reason": "作弊", "revoke-code": "other"})
    assert no_tick.status_code == 422
    no_code = client.post(url, data={"revoke-reason": "作弊", "revoke-confirm": "y"})
    assert no_code.status_code == 422
    assert "Choose the reason shown publicly." in no_code.get_data(as_text=True)
    made_up = client.post(
        url, data={"revoke-reason": "作弊", "revoke-confirm": "y", "revoke-code": "cheating"}
    )
    assert made_up.status_code == 422
    db.session.expire_all()
    assert db.session.get(Certificate, certificate.id).status is CertificateStatus.ISSUED
    done = client.post(
        url,
        data={
            "revoke-reason": "考试作弊",
            "revoke-confirm": "y",
            "revoke-code": "improperly_obtained",
        },
    )
    assert done.status_code == 302
    (revoked,) = _certificates()
    assert revoked.status is CertificateStatus.REVOKED and revoked.revoked_reason == "考试作弊"
    assert revoked.revoked_reason_code == "improperly_obtained"
    page = client.get(f"/certificates/{certificate.number}").get_data(as_text=True)
    assert "考试作弊" in page and "boss" in page  # the history names who did it
    assert "Obtained improperly" in page  # and the office sees the public reason too
    twice = client.post(
        url, data={"revoke-reason": "再次", "revoke-confirm": "y", "revoke-code": "other"}
    )
    assert twice.status_code == 302  # refused with a flash, not a 500
    assert _certificates()[0].revoked_reason == "考试作弊"


def test_reissuing_gives_a_new_number_and_revokes_the_old(client, login, admin, certificate):
    login("boss")
    url = f"/certificates/{certificate.number}/reissue"
    assert client.post(url, data={"reissue-reason": ""}).status_code == 422
    response = client.post(url, data={"reissue-reason": "姓名有错别字"})
    assert response.status_code == 302
    old, new = _certificates()
    assert new.number != old.number and new.supersedes_id == old.id
    assert response.headers["Location"].endswith(f"/certificates/{new.number}")
    assert old.status is CertificateStatus.REVOKED
    assert old.revoked_reason == "姓名有错别字" and new.supersedes_id == old.id
    assert new.status is CertificateStatus.ISSUED
    old_page = client.get(f"/certificates/{old.number}").get_data(as_text=True)
    assert new.number in old_page and "姓名有错别字" in old_page
    new_page = client.get(f"/certificates/{new.number}").get_data(as_text=True)
    assert old.number in new_page
    again = client.post(url, data={"reissue-reason": "再来"})
    assert again.status_code == 302 and len(_certificates()) == 2  # a revoked one: refused


def test_the_worker_sees_the_replacement(client, login, admin, worker, certificate):
    new = services.reissue_certificate(certificate, "姓名有错别字")
    db.session.commit()
    login(worker.username, WORKER_PASSWORD)
    _english(client)
    text = client.get("/certificates/mine").get_data(as_text=True)
    assert new.number in text and certificate.number in text
    assert f"replaced by a corrected one, number {new.number}" in text
    assert services.verify_url(new) in text and services.verify_url(certificate) not in text


# --- the register --------------------------------------------------------------------------


def _copy(certificate: Certificate, number: str, **changes) -> Certificate:
    fields = {
        c.key: getattr(certificate, c.key)
        for c in Certificate.__table__.columns
        if c.key not in ("id", "number")
    }
    fields.update(changes)
    row = Certificate(number=number, **fields)
    db.session.add(row)
    return row


def test_the_register_searches_filters_and_pages(client, login, admin, certificate):
    for i in range(55):
        _copy(certificate, f"TEST{i:06d}", holder_name=f"李{i:02d}")
    _copy(certificate, "REVOKED0001", holder_name="赵某", status=CertificateStatus.REVOKED)
    db.session.commit()
    login("boss")
    _english(client)
    first = client.get("/certificates/").get_data(as_text=True)
    assert first.count('class="mono cert-number"><a href="/certificates/') == 50
    assert "Page 1 of 2" in first and "57 certificates" in first
    second = client.get("/certificates/?page=2").get_data(as_text=True)
    assert second.count('class="mono cert-number"><a href="/certificates/') == 7
    found = client.get("/certificates/?q=test000012").get_data(as_text=True)
    assert "TEST000012" in found and "TEST000013" not in found
    by_name = client.get("/certificates/?q=赵某").get_data(as_text=True)
    assert "REVOKED0001" in by_name and certificate.number not in by_name
    revoked = client.get("/certificates/?status=revoked").get_data(as_text=True)
    assert "REVOKED0001" in revoked and "TEST000001" not in revoked
    assert client.get("/certificates/?status=nonsense&page=-3").status_code == 200
    assert client.get("/certificates/?page=99").status_code == 200


def test_a_huge_page_number_is_an_empty_page_not_an_error(client, login, admin):
    login("boss")
    for page in ("99999999999999999999999", "-5", "x"):
        assert client.get(f"/certificates/?page={page}").status_code == 200
