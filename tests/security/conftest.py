"""A small world for the security tests: every kind of object, owned by one worker (the
"owner") of one class, and the people who must not reach it: a classmate, a trainer of
another class of the same trade, an examiner of another trade. Built through the services."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role, User
from certify.accounts.sessions import issue_token
from certify.banks.blueprints import load_blueprint_json
from certify.banks.models import ExamBlueprint, Question
from certify.catalog.models import CertificateType, KnowledgeArea, Trade
from certify.certificates.models import Certificate
from certify.cohorts.models import Cohort, CohortSession, Enrolment
from certify.cohorts.services import CohortData, add_session, create_cohort
from certify.core import clock
from certify.demo.data import BANKS_DIR
from certify.endorsement.models import EndorsementBatch
from certify.endorsement.services import submit_batch
from certify.exams import services as exams
from certify.exams.models import Attempt, ExamSession
from certify.extensions import db
from certify.jobs.models import Job
from certify.jobs.services import start_job
from certify.notifications.models import Notification
from certify.notifications.services import notify
from certify.registration import services as registration
from certify.registration.models import Announcement, Application
from certify.results.models import Result
from certify.training import services as training
from certify.training.models import Material, MockAttempt
from tests.certificates.conftest import certificate, final_pass, signing_key  # noqa: F401
from tests.factories import PASSWORD, make_id, make_trade, make_user, photo_bytes

OWNER_PASSWORD = "my-own-pass-1"  # tests/classes.py's worker chose it
TINY_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class World:
    trade: Trade
    other_trade: Trade
    cohort: Cohort
    other_cohort: Cohort
    owner: User
    classmate: User
    trainer: User
    other_trainer: User
    examiner: User
    other_examiner: User
    admin: User
    hr: User
    exam: ExamSession
    attempt: Attempt
    result: Result
    certificate: Certificate
    batch: EndorsementBatch
    notification: Notification
    mock: MockAttempt
    material: Material
    cohort_session: CohortSession
    question: Question
    blueprint: ExamBlueprint  # the exam's, used by the owner's attempt and mock exam
    spare_blueprint: ExamBlueprint  # used by nothing: it may be deleted
    area: KnowledgeArea
    job: Job  # the reviewer's (hr) audit export
    announcement: Announcement  # open, into the owner's class
    application: Application  # pending

    def login_name(self, actor: str) -> tuple[str, str] | None:
        """(login, password) of a column of the access table; None for anonymous."""
        if actor == "anonymous":
            return None
        user = getattr(self, ACTORS[actor])
        return user.username, OWNER_PASSWORD if user is self.owner else PASSWORD

    def user(self, actor: str) -> User | None:
        return None if actor == "anonymous" else getattr(self, ACTORS[actor])


# Column of the access table → World attribute.
ACTORS = {
    "anonymous": None,
    "owner": "owner",
    "classmate": "classmate",
    "trainer": "trainer",
    "trainer2": "other_trainer",
    "examiner": "examiner",
    "examiner2": "other_examiner",
    "admin": "admin",
    "hr": "hr",
}


@pytest.fixture
def world(trade, trainer, cohort, worker, exam, certificate, frozen_clock) -> World:  # noqa: F811
    """The owner (tests/classes.py's worker) has a graded attempt, a final pass, an issued
    certificate submitted in a batch, a mock exam and a notification; their class has a
    material and a timetable entry."""
    examiner = db.session.scalar(sa.select(User).where(User.username == "ex1"))
    other_trade = make_trade(
        "electroplater",
        name="电镀工",
        certificate_type=CertificateType.SPECIAL,
        areas=("镀前处理/除油",),
    )
    other_examiner = make_user(Role.EXAMINER, username="ex2", trades=(other_trade.code,))
    other_trainer = make_user(Role.TRAINER, username="teacher2", trades=(trade.code,))
    admin = make_user(Role.ADMIN, username="boss")
    hr = make_user(Role.HR, username="reviewer")
    classmate = make_user(Role.WORKER, username="classmate")
    db.session.add(Enrolment(cohort=cohort, user=classmate))
    other_cohort = create_cohort(trade, CohortData("2026年第二期", 5, None, "", [other_trainer.id]))
    db.session.commit()

    attempt = exams.find_attempt(exam, worker)
    result = db.session.scalar(
        sa.select(Result).where(Result.session_id == exam.id, Result.user_id == worker.id)
    )
    batch = submit_batch([certificate], admin, session=exam)
    (notification,) = notify(
        [worker],
        "certificate_endorsed",
        link="/certificates/mine",
        number=certificate.number,
        trade=trade.name,
        body="温州市人力资源和社会保障局",
    )
    blueprint = exam.blueprint
    raw = json.loads((BANKS_DIR / "warehouse-keeper-5.blueprint.json").read_text(encoding="utf-8"))
    spare_blueprint = load_blueprint_json(
        json.dumps({**raw, "name": raw["name"] + "（备用）"}), "spare.json"
    )
    mock = training.start_mock(worker, blueprint)
    material = training.add_material_file(
        trade, "入库验收课件", "notes.pdf", TINY_PDF, cohort=cohort, actor=trainer
    )
    now = clock.now()
    cohort_session = add_session(
        cohort, now + timedelta(days=1), now + timedelta(days=1, hours=2), "三楼机房", "验收"
    )
    question = db.session.scalar(
        sa.select(Question).where(Question.trade_id == trade.id).order_by(Question.id)
    )
    area = db.session.scalar(
        sa.select(KnowledgeArea)
        .where(KnowledgeArea.trade_id == trade.id)
        .order_by(KnowledgeArea.id)
    )
    db.session.commit()
    job = start_job("audit_export", {"format": "csv"}, hr)  # runs at once, without Redis
    db.session.commit()
    announcement = registration.create_announcement(
        trade,
        registration.AnnouncementData(
            title="2027年第一批认定公告",
            level=cohort.level,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=10),
            cohort=cohort,
        ),
    )
    registration.open_announcement(announcement)
    application = registration.submit_application(
        announcement,
        {
            "姓名": "报名人",
            "证件号码": make_id(424),
            "手机号码": "13912345678",
            "通讯地址": "温州市鹿城区",
        },
        photo_bytes(),
    )
    db.session.commit()
    return World(
        trade=trade,
        other_trade=other_trade,
        cohort=cohort,
        other_cohort=other_cohort,
        owner=worker,
        classmate=classmate,
        trainer=trainer,
        other_trainer=other_trainer,
        examiner=examiner,
        other_examiner=other_examiner,
        admin=admin,
        hr=hr,
        exam=exam,
        attempt=attempt,
        result=result,
        certificate=certificate,
        batch=batch,
        notification=notification,
        mock=mock,
        material=material,
        cohort_session=cohort_session,
        question=question,
        blueprint=blueprint,
        spare_blueprint=spare_blueprint,
        area=area,
        job=job,
        announcement=announcement,
        application=application,
    )


def log_in(client, username: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"login": username, "password": password})
    assert response.status_code == 302, f"{username} could not log in"


@pytest.fixture
def login_as(client, world):
    """Log the client in as a column of the access table (through the real login form)."""

    def do_login(actor: str) -> None:
        credentials = world.login_name(actor)
        if credentials is not None:
            log_in(client, *credentials)

    return do_login


@pytest.fixture
def bearer(world):
    """An API token for a column of the access table (None for anonymous)."""

    def make(actor: str) -> str | None:
        user = world.user(actor)
        if user is None:
            return None
        token, _expires = issue_token(user)
        db.session.commit()
        return token

    return make
