"""A class with the shipped bank, a trainer and enrolled workers, for cohort and training tests."""

import csv
import io
from datetime import date, timedelta

import pytest

from certify.accounts.models import Role
from certify.banks.blueprints import load_blueprint_json
from certify.banks.importer import import_bank
from certify.cohorts.services import CohortData, create_cohort, enrol_roster
from certify.core import clock
from certify.core.idcard import make_id_number
from certify.demo.data import BANKS_DIR, WAREHOUSE_KEEPER_AREAS
from certify.extensions import db
from tests.factories import make_trade, make_user

HEADER = [
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "民族",
    "文化程度",
    "手机号码",
    "工作单位",
    "考生来源",
    "申报条件",
    "本职业工作年限",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明"]


def roster_rows(n: int, start: int = 0, years: int = 6) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):
        born = date(1975 + i % 25, 1 + i % 12, 1 + i % 28)
        seq = (i % 500) * 2 + 1  # odd: 男
        rows.append(
            [
                SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)] + GIVEN[(i // 7) % len(GIVEN)],
                "居民身份证",
                make_id_number("330302", born, seq % 1000),
                "男",
                "汉族",
                "初中",
                f"138{i:08d}",
                "温州某物流公司",
                "企业",
                "从事本职业工作满5年",
                str(years),
            ]
        )
    return rows


def roster_csv(rows, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def trade(app):
    trade = make_trade("warehouse-keeper", areas=tuple(WAREHOUSE_KEEPER_AREAS))
    import_bank(trade, "warehouse-keeper.csv", (BANKS_DIR / "warehouse-keeper.csv").read_bytes())
    load_blueprint_json(
        (BANKS_DIR / "warehouse-keeper-5.blueprint.json").read_text(encoding="utf-8"), "bp"
    )
    db.session.commit()
    return trade


@pytest.fixture
def trainer(trade):
    return make_user(Role.TRAINER, username="teacher", name="王老师", trades=(trade.code,))


@pytest.fixture
def cohort(trade, trainer):
    cohort = create_cohort(
        trade, CohortData("2026年第一期", 5, None, "12月12日 9:00 三楼机房", [trainer.id])
    )
    db.session.commit()
    return cohort


@pytest.fixture
def worker(cohort):
    """One enrolled worker, logged in with the slip password and a password of their own."""
    report = enrol_roster(cohort, "one.csv", roster_csv(roster_rows(1, start=900)))
    db.session.commit()
    assert report.saved, report.problems
    user = cohort.enrolments[0].user
    from certify.accounts.services import change_password

    change_password(user, user.first_password, "my-own-pass-1")
    db.session.commit()
    return user


@pytest.fixture
def exam(cohort, worker, frozen_clock):
    """A session open now for 3 hours, 90 minutes each."""
    from certify.exams.services import schedule_session

    now = clock.now()
    session = schedule_session(
        cohort, now - timedelta(minutes=1), now + timedelta(hours=3), duration_minutes=90
    )
    db.session.commit()
    return session


@pytest.fixture
def hall(cohort, worker, exam, trade, frozen_clock):
    """Three workers: one passes, one fails, one never starts (缺考)."""
    from certify.exams import services
    from certify.results import services as results

    report = enrol_roster(cohort, "more.csv", roster_csv(roster_rows(2, start=700)))
    db.session.commit()
    assert report.saved and report.enrolled == 2, report.problems
    failer, absentee = [e.user for e in cohort.enrolments if e.user_id != worker.id]
    examiner = make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    for person, right in ((worker, True), (failer, False)):
        attempt = services.start_attempt(exam, person)
        for item in attempt.items:
            services.save_answer(
                attempt, item.position, list(item.version.correct) if right else []
            )
        services.submit_attempt(attempt)
        results.record_practical_score(exam, person, examiner, 85)
    db.session.commit()
    return {"passer": worker, "failer": failer, "absentee": absentee, "examiner": examiner}
