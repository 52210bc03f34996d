import re

import sqlalchemy as sa

from certify.accounts.models import Role, User
from certify.cohorts.models import Enrolment
from certify.cohorts.services import enrol_roster, set_eligibility_rule
from certify.extensions import db
from tests.classes import roster_csv, roster_rows
from tests.factories import make_user


def _count(model):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_pilot_class_of_156_enrols_through_the_page_with_printable_slips(client, login, cohort):
    login("teacher")
    data = roster_csv(roster_rows(156), "gbk")
    page = client.post(
        f"/cohorts/{cohort.id}/roster",
        data={"file": (__import__("io").BytesIO(data), "花名册.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "录取 156" in page or "156" in page
    assert _count(Enrolment) == 0
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/cohorts/{cohort.id}/roster/confirm", data={"token": token})
    assert response.status_code == 302
    assert _count(Enrolment) == 156
    assert _count(User) == 156 + 1  # workers + the trainer
    detail = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "330302" in detail and "********" in detail
    slips = client.get(f"/cohorts/{cohort.id}/slips.pdf")
    assert slips.status_code == 200 and slips.data.startswith(b"%PDF")
    from pypdf import PdfReader

    assert len(PdfReader(__import__("io").BytesIO(slips.data)).pages) == 156


def test_a_slip_password_logs_in_once_and_must_be_changed(client, login, cohort):
    enrol_roster(cohort, "r.csv", roster_csv(roster_rows(2)))
    db.session.commit()
    user = cohort.enrolments[0].user
    password = user.first_password
    assert password and len(password) >= 10 and user.password_hash == ""
    response = login(user.id_number.lower(), password)
    assert response.headers["Location"].startswith("/account/password")
    client.post(
        "/account/password",
        data={
            "current_password": password,
            "new_password": "worker-pass-9",
            "confirm": "worker-pass-9",
        },
    )
    db.session.expire_all()
    assert user.first_password is None and user.password_hash.startswith("pbkdf2")


def test_one_bad_row_enrols_nobody(app, cohort):
    rows = roster_rows(5)
    rows[3][2] = rows[3][2][:-1] + ("0" if rows[3][2][-1] != "0" else "1")  # wrong check digit
    report = enrol_roster(cohort, "r.csv", roster_csv(rows))
    db.session.commit()
    assert not report.saved and _count(Enrolment) == 0 and _count(User) == 1
    assert [(p.number, p.field) for p in report.problems] == [(5, "证件号码")]


def test_existing_workers_are_linked_and_reimports_skip_the_enrolled(app, cohort):
    rows = roster_rows(3)
    existing = make_user(Role.WORKER, username="old", name=rows[0][0], id_number=rows[0][2])
    report = enrol_roster(cohort, "r.csv", roster_csv(rows))
    db.session.commit()
    assert (report.new_accounts, report.linked_accounts) == (2, 1)
    assert existing.id in {e.user_id for e in cohort.enrolments}
    again = enrol_roster(cohort, "r.csv", roster_csv(roster_rows(4)))
    db.session.commit()
    assert len(again.already) == 3 and again.enrolled == 1 and _count(Enrolment) == 4


def test_a_staff_id_number_cannot_be_enrolled(app, cohort):
    rows = roster_rows(2)
    make_user(Role.EXAMINER, username="ex", id_number=rows[1][2])
    report = enrol_roster(cohort, "r.csv", roster_csv(rows))
    assert not report.saved and report.problems[0].number == 3


def test_capacity_is_respected(app, cohort):
    cohort.capacity = 2
    report = enrol_roster(cohort, "r.csv", roster_csv(roster_rows(3)))
    assert not report.saved and "2" in report.problems[0].message


def test_eligibility_rules_flag_rows_without_refusing_them(app, cohort, trade):
    set_eligibility_rule(trade, 5, min_years=8, note="或持有相关证书")
    report = enrol_roster(cohort, "r.csv", roster_csv(roster_rows(2, years=3)))
    db.session.commit()
    assert report.saved
    assert all(e.flags and "8" in e.flags[0] for e in cohort.enrolments)


def test_a_closed_class_takes_nobody(app, cohort):
    import pytest

    from certify.core.errors import Conflict

    for _ in range(3):
        cohort.advance()
    with pytest.raises(Conflict):
        enrol_roster(cohort, "r.csv", roster_csv(roster_rows(1)))
    with pytest.raises(Conflict):
        cohort.advance()


def test_a_ten_thousand_row_roster_is_checked_in_one_pass(app, cohort):
    report = enrol_roster(cohort, "big.csv", roster_csv(roster_rows(10_000)), dry_run=True)
    # 10,000 rows reuse 1,000 ID sequences per birth date, so duplicates are found and named
    assert len(report.rows) + len({p.number for p in report.problems}) == 10_000
    assert not report.saved and _count(Enrolment) == 0


def test_cli_create_and_enroll(app, trade, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["cohorts", "create", "--trade", trade.code, "--level", "5", "--name", "二期"]
    )
    assert result.exit_code == 0, result.output
    cohort_id = int(result.output.strip())
    path = tmp_path / "r.csv"
    path.write_bytes(roster_csv(roster_rows(4), "gbk"))
    result = runner.invoke(args=["cohorts", "enroll", str(cohort_id), str(path)])
    assert result.exit_code == 0, result.output
    assert "enrolled: 4" in result.output and "new accounts: 4" in result.output
    rows = roster_rows(2, start=50)
    rows[1][6] = "12345"
    path.write_bytes(roster_csv(rows))
    result = runner.invoke(args=["cohorts", "enroll", str(cohort_id), str(path)])
    assert (
        result.exit_code == 1 and "第 3 行" in result.output and "nobody enrolled" in result.output
    )
    bad = runner.invoke(
        args=["cohorts", "create", "--trade", trade.code, "--level", "2", "--name", "x"]
    )
    assert bad.exit_code == 1 and "level" in bad.output
    out = tmp_path / "slips.pdf"
    result = runner.invoke(args=["cohorts", "slips", str(cohort_id), "-o", str(out)])
    assert result.exit_code == 0 and out.read_bytes().startswith(b"%PDF")
