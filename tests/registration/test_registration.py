"""报名 to 资格审核: apply on a phone with a photo, be returned and correct, be approved into a
class; the same ID and field rules as a roster, and nothing half-saved."""

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from certify.accounts.models import Role
from certify.cohorts.models import Enrolment
from certify.core import clock
from certify.core.errors import Conflict, ValidationFailed
from certify.extensions import db
from certify.registration import services
from certify.registration.models import Application, ApplicationStatus
from tests.conftest import in_fresh_context
from tests.factories import make_id, make_user, photo_bytes
from tests.pages import visible_text

CONDITIONS = "累计从事本职业工作1年（含）以上\n本职业学徒期满"


@pytest.fixture
def announcement(trade, cohort, frozen_clock):
    made = services.create_announcement(
        trade,
        services.AnnouncementData(
            title="2027年第一批仓库保管员（五级）职业技能等级认定公告",
            level=5,
            opens_at=clock.now() - timedelta(days=1),
            closes_at=clock.now() + timedelta(days=14),
            conditions=CONDITIONS,
            exam_note="2027年1月16日 温州市职工服务中心",
            cohort=cohort,
        ),
    )
    services.open_announcement(made)
    db.session.commit()
    return made


def _fields(**changes) -> dict[str, str]:
    fields = {
        "姓名": "陈小梅",
        "证件类型": "居民身份证",
        "证件号码": make_id(7, born=clock.now().date().replace(year=1990)),
        "性别": "",
        "民族": "汉族",
        "文化程度": "初中",
        "手机号码": "13812345678",
        "通讯地址": "温州市鹿城区车站大道1号",
        "考生来源": "企业",
        "工作单位": "温州某物流有限公司",
        "本职业工作年限": "3",
        "申报条件": "累计从事本职业工作1年（含）以上",
    }
    fields.update(changes)
    return fields


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Application))


def test_an_application_is_checked_by_the_roster_rules_and_saved_with_its_photo(announcement):
    application = services.submit_application(announcement, _fields(), photo_bytes())
    assert application.status is ApplicationStatus.PENDING
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{12}", application.reference)
    assert application.gender == "女" or application.gender == "男"  # read from the ID
    assert application.photo.media_type == "image/jpeg" and application.photo.size >= 20_000
    assert services.find_application(application.reference.lower()) is application


def test_problems_are_all_named_and_nothing_is_saved(announcement):
    with pytest.raises(ValidationFailed) as caught:
        services.submit_application(
            announcement,
            _fields(证件号码="330302199001011234", 手机号码="123", 通讯地址="", 申报条件="随便"),
            b"not a photo",
        )
    fields = {p.field for p in caught.value.problems}
    assert {"证件号码", "手机号码", "通讯地址", "申报条件", "考生证照"} <= fields
    assert _count() == 0


def test_a_second_application_with_the_same_id_is_refused_politely(announcement):
    services.submit_application(announcement, _fields(), photo_bytes())
    with pytest.raises(Conflict) as caught:
        services.submit_application(announcement, _fields(姓名="别人"), photo_bytes())
    assert caught.value.code == "already_applied"
    assert _count() == 1


def test_an_announcement_takes_applications_only_while_open(announcement, frozen_clock):
    frozen_clock.advance(days=15)
    with pytest.raises(Conflict) as caught:
        services.submit_application(announcement, _fields(), photo_bytes())
    assert caught.value.code == "not_accepting"


def test_returned_corrected_and_approved_into_the_class_with_the_photo(announcement, cohort):
    office = make_user(Role.ADMIN, username="office")
    application = services.submit_application(
        announcement, _fields(本职业工作年限="0"), photo_bytes()
    )
    services.return_application(application, "工作年限填0年，不符合申报条件，请核实。", office)
    assert application.status is ApplicationStatus.RETURNED
    with pytest.raises(ValidationFailed) as caught:
        services.resubmit_application(application, _fields(证件号码=make_id(8)), None)
    assert [p.field for p in caught.value.problems] == ["证件号码"]
    services.resubmit_application(application, _fields(本职业工作年限="3"), None)
    assert application.status is ApplicationStatus.PENDING and application.times_submitted == 2
    services.approve_application(application, None, office)
    db.session.commit()
    enrolment = db.session.scalar(sa.select(Enrolment).where(Enrolment.cohort_id == cohort.id))
    assert enrolment.user.id_number == application.id_number
    assert enrolment.photo is application.photo and enrolment.years_in_trade == 3
    with pytest.raises(Conflict):
        services.return_application(application, "晚了", office)


def test_the_whole_path_through_the_pages(app, client, login, announcement, cohort):
    home = visible_text(client.get("/register").get_data(as_text=True))
    assert announcement.title in home
    form = client.get(f"/register/{announcement.id}").get_data(as_text=True)
    assert 'capture="user"' in form and "累计从事本职业工作1年（含）以上" in form
    posted = {
        "name": "陈小梅",
        "id_type": "居民身份证",
        "id_number": make_id(21),
        "gender": "",
        "ethnicity": "汉族",
        "education": "初中",
        "phone": "13812345678",
        "address": "温州市鹿城区车站大道1号",
        "source": "企业",
        "employer": "温州某物流有限公司",
        "years_in_trade": "3",
        "basis": "本职业学徒期满",
    }
    bad = client.post(
        f"/register/{announcement.id}",
        data={**posted, "phone": "12", "photo": (io.BytesIO(b"GIF89a"), "me.gif")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 200 and _count() == 0
    sent = client.post(
        f"/register/{announcement.id}",
        data={**posted, "photo": (io.BytesIO(photo_bytes()), "me.jpg")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    application = db.session.scalar(sa.select(Application))
    status_url = sent.headers["Location"]
    assert application.reference in status_url
    photo = client.get(f"{status_url}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"

    make_user(Role.ADMIN, username="office")
    login("office")
    review = client.get(f"/registration/{announcement.id}").get_data(as_text=True)
    assert application.id_number in review and "陈小梅" in review
    assert client.get(f"/registration/applications/{application.id}/photo").status_code == 200
    client.post(
        f"/registration/applications/{application.id}/return",
        data={"reason": "照片戴了帽子，请重新拍一张。"},
    )
    client.post("/logout")
    status_page = in_fresh_context(client.get, status_url)
    text = visible_text(status_page.get_data(as_text=True))
    assert "退回" in text and "照片戴了帽子" in text and "陈*梅" in text
    assert application.id_number not in text
    correct_url = f"{status_url}/correct"
    again = client.get(correct_url).get_data(as_text=True)
    assert "照片戴了帽子" in again and 'value="13812345678"' in again
    fixed = client.post(
        correct_url,
        data={**posted, "photo": (io.BytesIO(photo_bytes(700, 900)), "2.jpg")},
        content_type="multipart/form-data",
    )
    assert fixed.status_code == 302
    db.session.expire_all()
    assert application.status is ApplicationStatus.PENDING and application.times_submitted == 2

    login("office")
    approved = client.post(
        f"/registration/applications/{application.id}/approve", data={"cohort": str(cohort.id)}
    )
    assert approved.status_code == 302
    db.session.expire_all()
    assert application.status is ApplicationStatus.APPROVED
    assert application.enrolment.cohort_id == cohort.id
    export = client.get(f"/registration/{announcement.id}/approved.xlsx")
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:4] == ("序号", "姓名", "证件类型", "证件号码")
    assert rows[2][1:4] == ("陈小梅", "居民身份证", application.id_number)
    assert rows[2][12] == "本职业学徒期满" and rows[2][14] == cohort.name


def test_nobody_else_reviews_and_an_unknown_reference_is_404(client, login, announcement, trainer):
    login("teacher")
    assert client.get(f"/registration/{announcement.id}").status_code == 403
    assert client.get("/register/status/ABCDEFGHJKLM").status_code == 404
