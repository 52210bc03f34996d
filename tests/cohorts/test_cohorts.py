import io

import sqlalchemy as sa

from certify.accounts.models import Role
from certify.banks.blueprints import list_blueprints
from certify.cohorts.models import Cohort, CohortStatus
from certify.extensions import db
from certify.training import services as training
from certify.training.models import Material
from tests.factories import make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"


def test_trainer_creates_a_class_and_is_its_trainer(client, login, trade, trainer):
    login("teacher")
    response = client.post(
        "/cohorts/new", data={"track": f"{trade.id}:5", "name": "二期", "capacity": "60"}
    )
    assert response.status_code == 302
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == "二期"))
    assert [t.username for t in cohort.trainers] == ["teacher"] and cohort.level == 5
    page = client.post(
        "/cohorts/new", data={"track": f"{trade.id}:5", "name": "", "capacity": "0"}
    ).get_data(as_text=True)
    assert "请填写班级名称" in page


def test_trainers_see_only_their_classes(client, login, cohort, trade):
    make_user(Role.TRAINER, username="other", trades=(trade.code,))
    login("other")
    assert cohort.name not in client.get("/cohorts/").get_data(as_text=True)
    for url in (
        f"/cohorts/{cohort.id}",
        f"/cohorts/{cohort.id}/dashboard",
        f"/cohorts/{cohort.id}/slips.pdf",
        f"/cohorts/{cohort.id}/roster",
    ):
        assert client.get(url).status_code == 403, url
    client.post("/logout")
    make_user(Role.ADMIN, username="boss")
    login("boss")
    assert client.get(f"/cohorts/{cohort.id}").status_code == 200


def test_stages_and_schedule(client, login, cohort):
    login("teacher")
    client.post(f"/cohorts/{cohort.id}/advance")
    db.session.expire_all()
    assert cohort.status is CohortStatus.TRAINING
    client.post(
        f"/cohorts/{cohort.id}/sessions",
        data={
            "day": "2026-12-01",
            "start": "09:00",
            "end": "11:30",
            "place": "工人文化宫302",
            "topic": "入库验收",
        },
    )
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "12-01 09:00" in page and "工人文化宫302" in page
    bad = client.post(
        f"/cohorts/{cohort.id}/sessions",
        data={"day": "2026-12-01", "start": "11:00", "end": "09:00"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "结束时间要晚于开始时间" in bad
    session = cohort.sessions[0]
    elsewhere = client.post(f"/cohorts/{cohort.id}/sessions/{session.id + 1}/delete")
    assert elsewhere.status_code == 404
    removed = client.post(f"/cohorts/{cohort.id}/sessions/{session.id}/delete")
    assert removed.status_code == 302
    db.session.expire_all()
    assert cohort.sessions == []


def test_materials_are_checked_by_content_and_shown_to_the_class(client, login, cohort, worker):
    login("teacher")
    response = client.post(
        f"/cohorts/{cohort.id}/materials",
        data={"title": "入库验收讲义", "file": (io.BytesIO(PDF), "讲义.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    fake = client.post(
        f"/cohorts/{cohort.id}/materials",
        data={"title": "病毒", "file": (io.BytesIO(b"MZ\x90\x00" * 10), "讲义.pdf")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "只能上传 PDF、PNG 和 JPEG 文件" in fake
    client.post(
        f"/cohorts/{cohort.id}/materials", data={"title": "安全视频", "url": "javascript:alert(1)"}
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Material)) == 1
    client.post("/logout")
    login(worker.username, "my-own-pass-1")
    listing = client.get(f"/learn/{cohort.trade.code}/materials").get_data(as_text=True)
    assert "入库验收讲义" in listing
    material = db.session.scalar(sa.select(Material))
    download = client.get(f"/learn/materials/{material.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"


def test_dashboard_shows_practice_weak_areas_and_mock_scores(client, login, cohort, worker, trade):
    from certify.banks.models import Question

    questions = db.session.scalars(
        sa.select(Question).where(Question.trade_id == trade.id).order_by(Question.id).limit(6)
    ).all()
    for q in questions:
        training.answer_practice(worker, q, [k["key"] for k in q.current.display_options][:1])
    attempt = training.start_mock(worker, list_blueprints(trade)[0])
    training.submit_mock(attempt, {i.position: i.version.correct for i in attempt.items})
    db.session.commit()
    login("teacher")
    page = client.get(f"/cohorts/{cohort.id}/dashboard").get_data(as_text=True)
    assert "1 人练习过" in page and "<svg" in page and worker.name in page and ">100<" in page
    export = client.get(f"/cohorts/{cohort.id}/dashboard.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(export.data)).active
    row = [c.value for c in sheet[2]]
    assert row[0] == worker.name and row[2] == 6 and row[7] == 100
    assert "*" in row[1]  # the ID number stays masked in the export


def test_the_office_publishes_a_material_to_every_class_of_the_trade(client, login, cohort, worker):
    make_user(Role.ADMIN, username="boss")
    login("boss")
    client.post(
        f"/cohorts/{cohort.id}/materials",
        data={"title": "仓库消防安全规则", "url": "https://example.cn/fire", "whole_trade": "y"},
    )
    material = db.session.scalar(sa.select(Material))
    assert material.cohort_id is None and material.trade_id == cohort.trade_id
    client.post("/logout")
    login(worker.username, "my-own-pass-1")
    response = client.get(f"/learn/materials/{material.id}")
    assert response.status_code == 302 and response.headers["Location"] == "https://example.cn/fire"
