"""Classes, their schedules and rosters. Views, CLI and tests all come through here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from certify.accounts.models import Role, User
from certify.accounts.services import generate_initial_password
from certify.audit.services import record_event
from certify.catalog.models import CertificateType, Trade
from certify.cohorts.models import Cohort, CohortSession, EligibilityRule, Enrolment
from certify.cohorts.roster import RosterRow, read_roster
from certify.cohorts.slips import SlipData
from certify.core import clock
from certify.core.errors import Forbidden, NotFound, Problem, ValidationFailed
from certify.core.lookups import get_or_not_found
from certify.core.masking import mask_id_number
from certify.core.tables import ImportProblem, Unit
from certify.extensions import db


@dataclass
class CohortData:
    name: str
    level: int | None = None
    capacity: int | None = None
    exam_note: str = ""
    trainer_ids: list[int] = field(default_factory=list)


def _check(trade: Trade, data: CohortData) -> list[User]:
    problems = []
    data.name = (data.name or "").strip()
    if not data.name or len(data.name) > 100:
        problems.append(Problem("name", _("Give the class a name (at most 100 characters).")))
    if trade.certificate_type is CertificateType.LEVEL and data.level not in trade.levels:
        problems.append(Problem("level", _("Choose one of the trade's levels.")))
    if trade.certificate_type is CertificateType.SPECIAL and data.level is not None:
        problems.append(Problem("level", _("A special vocational ability trade has no levels.")))
    if data.capacity is not None and not 1 <= data.capacity <= 10000:
        problems.append(Problem("capacity", _("Capacity is 1 to 10,000 people, or empty.")))
    trainers = [db.session.get(User, i) for i in data.trainer_ids]
    if any(t is None or t.role is not Role.TRAINER for t in trainers):
        problems.append(Problem("trainers", _("Only trainer accounts can teach a class.")))
    if problems:
        raise ValidationFailed(problems)
    return trainers  # type: ignore[return-value]


def _snapshot(cohort: Cohort) -> dict[str, object]:
    return {
        "name": cohort.name,
        "trade": cohort.trade.code,
        "level": cohort.level,
        "capacity": cohort.capacity,
        "status": str(cohort.status),
        "trainers": [t.username for t in cohort.trainers],
    }


def create_cohort(trade: Trade, data: CohortData, actor=None) -> Cohort:
    trainers = _check(trade, data)
    cohort = Cohort(
        trade=trade,
        level=data.level,
        name=data.name,
        capacity=data.capacity,
        exam_note=(data.exam_note or "").strip()[:200],
        created_at=clock.now(),
    )
    cohort.trainers = trainers
    db.session.add(cohort)
    record_event("cohort.created", cohort, after=_snapshot(cohort), actor=actor)
    return cohort


def update_cohort(cohort: Cohort, data: CohortData, actor=None) -> Cohort:
    trainers = _check(cohort.trade, data)
    before = _snapshot(cohort)
    cohort.name, cohort.level, cohort.capacity = data.name, data.level, data.capacity
    cohort.exam_note = (data.exam_note or "").strip()[:200]
    cohort.trainers = trainers
    after = _snapshot(cohort)
    if after != before:
        record_event("cohort.updated", cohort, before=before, after=after, actor=actor)
    return cohort


def advance_cohort(cohort: Cohort, actor=None) -> None:
    before = str(cohort.status)
    cohort.advance()
    record_event(
        "cohort.advanced",
        cohort,
        before={"status": before},
        after={"status": str(cohort.status)},
        actor=actor,
    )


def add_session(
    cohort: Cohort, starts_at: datetime, ends_at: datetime, place: str, topic: str
) -> CohortSession:
    if ends_at <= starts_at:
        raise ValidationFailed([Problem("ends_at", _("The session must end after it starts."))])
    session = CohortSession(
        starts_at=starts_at, ends_at=ends_at, place=(place or "")[:200], topic=(topic or "")[:200]
    )
    cohort.sessions.append(session)
    return session


def remove_session(cohort: Cohort, session_id: int) -> None:
    """Take a training session off the class's schedule."""
    session = next((s for s in cohort.sessions if s.id == session_id), None)
    if session is None:
        raise NotFound(_("No such session on this class's schedule."), code="session_not_found")
    cohort.sessions.remove(session)


def get_cohort(cohort_id: int) -> Cohort:
    return get_or_not_found(Cohort, cohort_id, _("No such class."), "cohort_not_found")


def can_manage(user: User, cohort: Cohort) -> bool:
    """Admins manage every class; a trainer only the classes they teach."""
    return user.role is Role.ADMIN or (user.role is Role.TRAINER and user in cohort.trainers)


def managed_cohort(user: User, cohort_id: int) -> Cohort:
    cohort = get_cohort(cohort_id)
    if not can_manage(user, cohort):
        raise Forbidden(_("This class is not yours."), code="not_your_cohort")
    return cohort


def visible_cohorts(user: User) -> list[Cohort]:
    stmt = sa.select(Cohort).order_by(Cohort.created_at.desc(), Cohort.id.desc())
    if user.role is Role.TRAINER:
        stmt = stmt.where(Cohort.trainers.any(User.id == user.id))
    elif user.role is not Role.ADMIN:
        stmt = stmt.where(Cohort.enrolments.any(Enrolment.user_id == user.id))
    return list(db.session.scalars(stmt))


def worker_cohorts(user: User) -> list[Cohort]:
    return list(
        db.session.scalars(
            sa.select(Cohort)
            .join(Enrolment, Enrolment.cohort_id == Cohort.id)
            .where(Enrolment.user_id == user.id)
            .order_by(Cohort.created_at.desc())
        )
    )


# --- roster enrolment --------------------------------------------------------------


@dataclass
class EnrolReport:
    filename: str
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    already: list[RosterRow] = field(default_factory=list)  # enrolled before: left as they are
    new_accounts: int = 0
    linked_accounts: int = 0
    enrolled: int = 0
    saved: bool = False

    @property
    def to_enrol(self) -> list[RosterRow]:
        skip = {r.number for r in self.already}
        return [r for r in self.rows if r.number not in skip]


def _rule(cohort: Cohort) -> EligibilityRule | None:
    return eligibility_rule(cohort.trade_id, cohort.level)


def eligibility_rule(trade_id: int, level: int | None) -> EligibilityRule | None:
    """The trade and level's 申报条件 rule, if the office has set one."""
    return db.session.scalar(
        sa.select(EligibilityRule).where(
            EligibilityRule.trade_id == trade_id,
            EligibilityRule.level.is_(None) if level is None else EligibilityRule.level == level,
        )
    )


def eligibility_flags(row: RosterRow, rule: EligibilityRule | None) -> list[str]:
    if rule is None:
        return []
    flags = []
    if rule.min_years and (row.years_in_trade or 0) < rule.min_years:
        flags.append(
            _(
                "%(years)s years in the occupation; this level usually asks %(min)d. "
                "Check the other grounds (a lower certificate, a school diploma).",
                years=row.years_in_trade if row.years_in_trade is not None else "?",
                min=rule.min_years,
            )
        )
    return flags


def _existing_users(id_numbers: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for start in range(0, len(id_numbers), 500):
        chunk = id_numbers[start : start + 500]
        for user in db.session.scalars(sa.select(User).where(User.id_number.in_(chunk))):
            found[user.id_number] = user
    return found


def enrol_roster(
    cohort: Cohort, filename: str, data: bytes, *, dry_run: bool = False, actor=None
) -> EnrolReport:
    """All or nothing: any problem in the file and nobody is enrolled."""
    cohort.check_open_for_enrolment()
    parsed = read_roster(filename, data)
    report = EnrolReport(filename, parsed.rows, list(parsed.problems), list(parsed.warnings))
    _enrol_checked(cohort, report, dry_run=dry_run)
    if report.saved:
        record_event(
            "cohort.roster_imported",
            cohort,
            actor=actor,
            after={
                "file": filename,
                "enrolled": report.enrolled,
                "new_accounts": report.new_accounts,
                "linked_accounts": report.linked_accounts,
                "already_enrolled": len(report.already),
            },
        )
    return report


def enrol_person(cohort: Cohort, row: RosterRow, source: str) -> EnrolReport:
    """One person already checked by the roster's rules (an approved application) enrolled
    as a roster row would be: the same account rules, the same capacity and flags."""
    cohort.check_open_for_enrolment()
    report = EnrolReport(source, [row])
    _enrol_checked(cohort, report)
    return report


def _enrol_checked(cohort: Cohort, report: EnrolReport, *, dry_run: bool = False) -> None:
    existing = _existing_users([r.id_number for r in report.rows])
    _check_existing_accounts(cohort, report, existing)
    _check_capacity(cohort, report)
    report.problems.sort(key=lambda p: (p.number is not None, p.number or 0))
    if report.problems or dry_run:
        return
    _enrol_rows(cohort, report, existing)
    db.session.flush()
    report.saved = True


def _check_existing_accounts(
    cohort: Cohort, report: EnrolReport, existing: dict[str, User]
) -> None:
    """A roster row may name someone who already has an account: a staff account cannot
    sit an exam, someone already in the class is left as they are, and the account's own
    name wins over the roster's (the trainer is told)."""
    enrolled_ids = {e.user_id for e in cohort.enrolments}
    for row in report.rows:
        user = existing.get(row.id_number)
        if user is None:
            continue
        if user.role is not Role.WORKER:
            report.problems.append(
                ImportProblem(
                    report.filename,
                    row.number,
                    Unit.ROW,
                    "证件号码",
                    _("This ID number belongs to a staff account; workers need their own."),
                )
            )
        elif user.id in enrolled_ids:
            report.already.append(row)
        elif user.name and user.name != row.name:
            report.warnings.append(
                ImportProblem(
                    report.filename,
                    row.number,
                    Unit.ROW,
                    "姓名",
                    _(
                        "The account with this ID number is named %(name)s; it is kept.",
                        name=user.name,
                    ),
                )
            )


def _check_capacity(cohort: Cohort, report: EnrolReport) -> None:
    """A problem of the file as a whole, so it names no row."""
    if cohort.capacity is None:
        return
    total = len(cohort.enrolments) + len(report.to_enrol)
    if total > cohort.capacity:
        report.problems.append(
            ImportProblem(
                report.filename,
                None,
                None,
                None,
                _(
                    "The class holds %(cap)d people; this roster would make it %(n)d.",
                    cap=cohort.capacity,
                    n=total,
                ),
            )
        )


def _enrol_rows(cohort: Cohort, report: EnrolReport, existing: dict[str, User]) -> None:
    """Enrol everyone not yet in the class, opening a worker account for who has none."""
    rule = _rule(cohort)
    now = clock.now()
    for row in report.to_enrol:
        user = existing.get(row.id_number)
        if user is None:
            user = _new_worker(row, now)
            report.new_accounts += 1
        else:
            report.linked_accounts += 1
        db.session.add(
            Enrolment(
                cohort=cohort,
                user=user,
                id_type=row.id_type,
                gender=row.gender,
                ethnicity=row.ethnicity,
                education=row.education,
                employer=row.employer or "",
                source=row.source,
                basis=row.basis or "",
                years_in_trade=row.years_in_trade,
                flags=eligibility_flags(row, rule),
                enrolled_at=now,
            )
        )
        report.enrolled += 1


def _new_worker(row: RosterRow, now: datetime) -> User:
    """A worker logs in with the ID number; the random user name only keeps it unique, and
    the first password is printed on the login slip."""
    user = User(
        username=f"w{secrets.token_hex(5)}",
        name=row.name,
        id_number=row.id_number,
        phone=row.phone,
        role=Role.WORKER,
        created_at=now,
    )
    user.set_first_password(generate_initial_password())
    db.session.add(user)
    return user


def cohort_slips(cohort: Cohort, login_url: str, user_id: int | None = None) -> list[SlipData]:
    """One login slip per enrolled worker (or one worker), in name order."""
    return [
        SlipData(
            name=e.user.name,
            login=e.user.id_number or e.user.username,
            masked_id=mask_id_number(e.user.id_number or ""),
            password=e.user.first_password,
            cohort=cohort.name,
            trade=cohort.trade.name,
            exam_time=cohort.exam_note or None,
            login_url=login_url,
        )
        for e in sorted(cohort.enrolments, key=lambda e: (e.user.name, e.id))
        if user_id is None or e.user_id == user_id
    ]


def set_eligibility_rule(
    trade: Trade, level: int | None, min_years: int, note: str = "", actor=None
) -> EligibilityRule:
    if not 0 <= min_years <= 60:
        raise ValidationFailed([Problem("min_years", _("Years are 0 to 60."))])
    rule = db.session.scalar(
        sa.select(EligibilityRule).where(
            EligibilityRule.trade_id == trade.id,
            EligibilityRule.level.is_(None) if level is None else EligibilityRule.level == level,
        )
    )
    if rule is None:
        rule = EligibilityRule(trade=trade, level=level)
        db.session.add(rule)
    rule.min_years, rule.note = min_years, (note or "")[:300]
    db.session.flush()
    record_event(
        "eligibility_rule.set",
        rule,
        after={"trade": trade.code, "level": level, "min_years": min_years},
        actor=actor,
    )
    return rule
