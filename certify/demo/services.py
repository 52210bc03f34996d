"""Loading the demo data through the same services a person would use, idempotently."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from certify.accounts.models import User
from certify.accounts.services import UserData, create_user
from certify.banks.blueprints import load_blueprint_json
from certify.banks.importer import import_bank
from certify.banks.models import ExamBlueprint, ExamPoint, Question
from certify.banks.points import load_exam_points
from certify.catalog.models import Trade
from certify.catalog.services import TradeData, create_trade, ensure_area_path
from certify.certificates.services import issue_pending_certificates
from certify.certificates.signing import init_keys
from certify.cohorts.models import Cohort, Enrolment
from certify.cohorts.services import CohortData, create_cohort
from certify.core import clock
from certify.core.errors import Problem, ValidationFailed
from certify.demo import data
from certify.exams.models import Attempt, ExamSession
from certify.exams.services import save_answer, schedule_session, start_attempt, submit_attempt
from certify.extensions import db
from certify.registration.models import Announcement
from certify.registration.services import (
    AnnouncementData,
    create_announcement,
    open_announcement,
)
from certify.results.services import finalize_results, publish_results, record_practical_score


def load_demo() -> dict[str, list[str]]:
    """Add what is missing; never touch what an administrator may have changed since."""
    report: dict[str, list[str]] = {"created": [], "present": []}
    for spec in data.TRADES:
        trade = db.session.scalar(sa.select(Trade).where(Trade.code == spec["code"]))
        if trade is None:
            trade = create_trade(
                TradeData(
                    code=spec["code"],
                    name=spec["name"],
                    certificate_type=spec["certificate_type"],
                    levels=list(spec["levels"]),
                    description=spec["description"],
                )
            )
            for path in spec["areas"]:
                ensure_area_path(trade, path)
            report["created"].append(f"trade {trade.code}")
        else:
            report["present"].append(f"trade {trade.code}")
    db.session.flush()
    for spec in data.ACCOUNTS:
        existing = db.session.scalar(sa.select(User).where(User.username == spec["username"]))
        if existing is not None:
            report["present"].append(f"user {existing.username}")
            continue
        user_data = UserData(
            username=spec["username"],
            role=spec["role"],
            name=spec.get("name", ""),
            id_number=spec.get("id_number"),
            trade_codes=spec.get("trades", ()),
        )
        create_user(user_data, spec["password"])
        report["created"].append(f"user {spec['username']}")
    _load_banks(report)
    _load_class(report)
    _load_announcement(report)
    _load_past_class(report)
    return report


def _load_class(report: dict[str, list[str]]) -> None:
    """A demo class of 仓库保管员 五级, taught by the demo trainer, with the demo worker in it."""
    trade = db.session.scalar(sa.select(Trade).where(Trade.code == "warehouse-keeper"))
    trainer = db.session.scalar(sa.select(User).where(User.username == "trainer"))
    worker = db.session.scalar(sa.select(User).where(User.username == "worker"))
    if trade is None or trainer is None or worker is None:
        return
    if db.session.scalar(sa.select(Cohort).where(Cohort.name == data.DEMO_COHORT)) is not None:
        return
    cohort = create_cohort(
        trade, CohortData(data.DEMO_COHORT, 5, 160, data.DEMO_EXAM_NOTE, [trainer.id])
    )
    db.session.add(
        Enrolment(
            cohort=cohort,
            user=worker,
            gender="女",
            ethnicity="汉族",
            education="初中",
            employer="温州市某物流有限公司",
            source="企业",
            years_in_trade=3,
        )
    )
    report["created"].append(f"class {cohort.name}")


def _load_announcement(report: dict[str, list[str]]) -> None:
    """An open 认定公告 for the demo class, so /register can be tried at once."""
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == data.DEMO_COHORT))
    if cohort is None or db.session.scalar(sa.select(Announcement.id).limit(1)) is not None:
        return
    now = clock.now()
    announcement = create_announcement(
        cohort.trade,
        AnnouncementData(
            title=data.DEMO_ANNOUNCEMENT,
            level=cohort.level,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=30),
            conditions=data.DEMO_CONDITIONS,
            exam_note=data.DEMO_EXAM_NOTE,
            cohort=cohort,
        ),
    )
    open_announcement(announcement)
    report["created"].append(f"announcement {announcement.title}")


def _load_past_class(report: dict[str, list[str]]) -> None:
    """A class that finished in October: the demo worker sat its exam, passed, and was certified.

    Everything goes through the real services with the clock set back, so the exam, the
    practical score, the publicity period and the signed certificate are what production
    would have made.
    """
    found = _past_class_parts()
    if found is None:
        return
    trade, users, blueprint = found
    init_keys()
    exam_day = datetime(2026, 10, 17, 1, 0, tzinfo=UTC)  # a Saturday, 09:00 in Wenzhou
    with clock.travel(exam_day - timedelta(days=30)):
        cohort = create_cohort(
            trade, CohortData(data.PAST_COHORT, 5, 60, "", [users["trainer"].id])
        )
        db.session.add(Enrolment(cohort=cohort, user=users["worker"], gender="女"))
        db.session.flush()
    session, attempt = _sit_past_exam(cohort, blueprint, users["worker"], exam_day)
    with clock.travel(exam_day + timedelta(minutes=71)):
        submit_attempt(attempt)
        record_practical_score(session, users["worker"], users["examiner"], 86)
    with clock.travel(exam_day + timedelta(days=2)):
        publish_results(session, 5)
    with clock.travel(exam_day + timedelta(days=12)):
        finalize_results(session)
    with clock.travel(exam_day + timedelta(days=13)):
        for outcome in issue_pending_certificates(session):
            if outcome.certificate is not None:
                report["created"].append(f"certificate {outcome.certificate.number}")
    report["created"].append(f"class {cohort.name}")


def _past_class_parts() -> tuple[Trade, dict[str, User], ExamBlueprint] | None:
    """The trade, the demo trainer, examiner and worker, and the level-5 blueprint the past
    class needs; None when one is missing or the class is there already."""
    trade = db.session.scalar(sa.select(Trade).where(Trade.code == "warehouse-keeper"))
    users = {
        u.username: u
        for u in db.session.scalars(
            sa.select(User).where(User.username.in_(("trainer", "examiner", "worker")))
        )
    }
    if trade is None or len(users) < 3:
        return None
    blueprint = db.session.scalar(
        sa.select(ExamBlueprint).where(ExamBlueprint.trade_id == trade.id, ExamBlueprint.level == 5)
    )
    if blueprint is None:
        return None
    if db.session.scalar(sa.select(Cohort).where(Cohort.name == data.PAST_COHORT)) is not None:
        return None
    return trade, users, blueprint


def _sit_past_exam(
    cohort: Cohort, blueprint: ExamBlueprint, worker: User, exam_day: datetime
) -> tuple[ExamSession, Attempt]:
    """The exam session on exam day, and the worker's paper answered, not yet handed in.
    A seeded random keeps the demo's score the same on every load."""
    with clock.travel(exam_day):
        session = schedule_session(
            cohort,
            exam_day,
            exam_day + timedelta(hours=2),
            duration_minutes=90,
            blueprint=blueprint,
        )
        attempt = start_attempt(session, worker)
        choose = random.Random(2026)
        for item in attempt.items:  # about nine answers in ten right
            right = list(item.version.correct)
            wrong = [o["key"] for o in item.version.display_options if [o["key"]] != right][:1]
            save_answer(attempt, item.position, right if choose.random() < 0.9 else wrong)
    return session, attempt


def _load_points(trade: Trade, report: dict[str, list[str]]) -> None:
    """The trade's 鉴定要素细目表 beside its bank, for a trade that has none yet: the bank's
    鉴定点代码 refer to it."""
    table = data.BANKS_DIR / f"{trade.code}.points.csv"
    has_points = db.session.scalar(
        sa.select(sa.func.count()).select_from(ExamPoint).where(ExamPoint.trade_id == trade.id)
    )
    if has_points or not table.exists():
        return
    loaded = load_exam_points(trade, table.name, table.read_bytes())
    if loaded.problems:
        raise ValidationFailed([Problem(p.where(), p.message) for p in loaded.problems])
    report["created"].append(f"{loaded.points} exam points for {trade.code}")


def _load_banks(report: dict[str, list[str]]) -> None:
    """The shipped banks and blueprints, for a trade whose bank is still empty."""
    for spec in data.TRADES:
        trade = db.session.scalar(sa.select(Trade).where(Trade.code == spec["code"]))
        if trade is None:
            continue
        has_questions = db.session.scalar(
            sa.select(sa.func.count()).select_from(Question).where(Question.trade_id == trade.id)
        )
        _load_points(trade, report)
        bank = data.BANKS_DIR / f"{trade.code}.csv"
        if not has_questions and bank.exists():
            result = import_bank(trade, bank.name, bank.read_bytes())
            report["created"].append(f"{result.imported} questions for {trade.code}")
        has_blueprints = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ExamBlueprint)
            .where(ExamBlueprint.trade_id == trade.id)
        )
        if not has_blueprints:
            for path in sorted(data.BANKS_DIR.glob(f"{trade.code}*.blueprint.json")):
                blueprint = load_blueprint_json(path.read_text(encoding="utf-8"), path.name)
                report["created"].append(f"blueprint {blueprint.name}")
