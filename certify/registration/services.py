"""报名 and 资格审核 as services: announce, apply, correct, approve into a class or return.

An application is checked by the roster's own rules (`cohorts.roster.read_person`: the ID
number against GB 11643, the Zhejiang field lists, the phone) so a person who registers and
a person on an imported roster meet the same checks; approving enrols them through the same
path (`cohorts.services.enrol_person`) with their photo.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from certify.accounts.models import User
from certify.audit.services import record_event
from certify.catalog.models import Trade
from certify.cohorts.models import Cohort, Enrolment
from certify.cohorts.roster import RosterRow, read_person
from certify.cohorts.services import eligibility_flags, eligibility_rule, enrol_person
from certify.core import clock
from certify.core.blobs import store_blob
from certify.core.errors import Conflict, NotFound, Problem, ValidationFailed
from certify.core.lookups import get_or_not_found
from certify.core.photos import PhotoRefused, prepare_photo
from certify.extensions import db
from certify.registration.models import (
    Announcement,
    AnnouncementStatus,
    Application,
    ApplicationStatus,
)

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
REFERENCE_CHARS = 12  # 60 bits: the reference is the applicant's key to their application
MAX_ADDRESS_CHARS = 200
MAX_REASON_CHARS = 500
PHOTO_FIELD = "考生证照"
ADDRESS_FIELD = "通讯地址"


# --- announcements ----------------------------------------------------------------------


@dataclass
class AnnouncementData:
    title: str
    level: int | None
    opens_at: datetime
    closes_at: datetime
    conditions: str = ""
    exam_note: str = ""
    cohort: Cohort | None = None


def create_announcement(trade: Trade, data: AnnouncementData, actor=None) -> Announcement:
    problems = _announcement_problems(trade, data)
    if problems:
        raise ValidationFailed(problems)
    announcement = Announcement(
        trade=trade,
        level=data.level,
        title=data.title.strip(),
        conditions=data.conditions.strip(),
        exam_note=data.exam_note.strip(),
        opens_at=data.opens_at,
        closes_at=data.closes_at,
        cohort=data.cohort,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(announcement)
    db.session.flush()
    record_event(
        "announcement.created", announcement, actor=actor, after={"title": announcement.title}
    )
    return announcement


def _announcement_problems(trade: Trade, data: AnnouncementData) -> list[Problem]:
    problems = []
    if not data.title.strip() or len(data.title) > 200:
        problems.append(
            Problem("title", _("Give the announcement a title (up to 200 characters)."))
        )
    if data.closes_at <= data.opens_at:
        problems.append(Problem("closes_at", _("Applications must close after they open.")))
    if data.level is not None and data.level not in trade.levels:
        problems.append(Problem("level", _("The trade has no such level.")))
    cohort = data.cohort
    if cohort is not None and (cohort.trade_id != trade.id or cohort.level != data.level):
        problems.append(Problem("cohort", _("The class is for another trade or level.")))
    return problems


def open_announcement(announcement: Announcement, actor=None) -> None:
    announcement.open()
    record_event("announcement.opened", announcement, actor=actor)


def close_announcement(announcement: Announcement, actor=None) -> None:
    announcement.close()
    record_event("announcement.closed", announcement, actor=actor)


def get_announcement(announcement_id: int) -> Announcement:
    return get_or_not_found(
        Announcement, announcement_id, _("No such announcement."), "announcement_not_found"
    )


def open_announcements() -> list[Announcement]:
    """What a worker can apply to now."""
    now = clock.now()
    return list(
        db.session.scalars(
            sa.select(Announcement)
            .where(
                Announcement.status == AnnouncementStatus.OPEN,
                Announcement.opens_at <= now,
                Announcement.closes_at > now,
            )
            .order_by(Announcement.closes_at)
        )
    )


def list_announcements() -> list[Announcement]:
    return list(db.session.scalars(sa.select(Announcement).order_by(Announcement.id.desc())))


def basis_choices(announcement: Announcement) -> list[str]:
    """The 申报条件 an applicant chooses from: one per line of the announcement's conditions."""
    return [line.strip() for line in announcement.conditions.splitlines() if line.strip()]


# --- applying ------------------------------------------------------------------------------


def submit_application(
    announcement: Announcement, fields: dict[str, str], photo: bytes
) -> Application:
    """A new application, all checked at once; nothing is saved if anything is wrong."""
    if not announcement.accepting(clock.now()):
        raise Conflict(_("This announcement is not taking applications now."), code="not_accepting")
    row, problems = _checked_person(announcement, fields)
    prepared = _checked_photo(photo, problems)
    if problems:
        raise ValidationFailed(problems)
    assert row is not None and prepared is not None
    duplicate = db.session.scalar(
        sa.select(Application).where(
            Application.announcement_id == announcement.id,
            Application.id_number == row.id_number,
        )
    )
    if duplicate is not None:
        raise Conflict(
            _(
                "Someone with this ID number has already applied to this announcement. Look "
                "up that application with its reference number; if it is lost, ask the "
                "assessment office."
            ),
            code="already_applied",
        )
    application = Application(
        announcement=announcement,
        reference=_new_reference(),
        photo=store_blob(prepared, "image/jpeg"),
        submitted_at=clock.now(),
    )
    _copy_person(application, row, fields)
    db.session.add(application)
    db.session.flush()
    record_event(
        "application.submitted",
        application,
        after={"announcement": announcement.id, "reference": application.reference},
    )
    return application


def resubmit_application(
    application: Application, fields: dict[str, str], photo: bytes | None
) -> Application:
    """A returned application corrected by its applicant, who types the ID number again: the
    reference alone does not let anyone change someone's application."""
    if application.announcement.status is not AnnouncementStatus.OPEN:
        raise Conflict(_("Applications to this announcement are closed."), code="not_accepting")
    if application.status is not ApplicationStatus.RETURNED:
        raise Conflict(_("Only a returned application can be corrected."), code="not_returned")
    row, problems = _checked_person(application.announcement, fields)
    prepared = _checked_photo(photo, problems) if photo else None
    if row is not None and row.id_number != application.id_number:
        problems.append(
            Problem(
                "证件号码",
                _("This is not the ID number of the application: type the one you applied with."),
            )
        )
    if problems:
        raise ValidationFailed(problems)
    assert row is not None
    _copy_person(application, row, fields)
    if prepared is not None:
        application.photo = store_blob(prepared, "image/jpeg")
    application.resubmit(clock.now())
    record_event(
        "application.resubmitted", application, after={"times": application.times_submitted}
    )
    return application


def find_application(reference: str) -> Application:
    cleaned = "".join(c for c in (reference or "").upper() if c in REFERENCE_ALPHABET)
    application = db.session.scalar(sa.select(Application).where(Application.reference == cleaned))
    if application is None:
        raise NotFound(
            _("No application has this reference number: check it and try again."),
            code="application_not_found",
        )
    return application


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_CHARS))


def _checked_person(
    announcement: Announcement, fields: dict[str, str]
) -> tuple[RosterRow | None, list[Problem]]:
    read = read_person(fields, _("registration form"))
    problems = [Problem(p.field or "", p.message) for p in read.problems]
    address = (fields.get(ADDRESS_FIELD) or "").strip()
    if not address or len(address) > MAX_ADDRESS_CHARS:
        problems.append(
            Problem(ADDRESS_FIELD, _("Write your postal address (up to 200 characters)."))
        )
    choices = basis_choices(announcement)
    basis = (fields.get("申报条件") or "").strip()
    if choices and basis not in choices:
        problems.append(Problem("申报条件", _("Choose the condition you apply under.")))
    return (read.rows[0] if read.rows else None), problems


def _checked_photo(photo: bytes, problems: list[Problem]) -> bytes | None:
    try:
        return prepare_photo(photo).jpeg
    except PhotoRefused as exc:
        problems.append(Problem(PHOTO_FIELD, str(exc)))
        return None


# The person's fields an application keeps, named as the roster row names them.
PERSON_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "gender",
    "ethnicity",
    "education",
    "phone",
    "employer",
    "source",
    "basis",
    "years_in_trade",
)


def _copy_person(application: Application, row: RosterRow, fields: dict[str, str]) -> None:
    for name in PERSON_FIELDS:
        setattr(application, name, getattr(row, name))
    application.employer = application.employer or ""
    application.basis = application.basis or ""
    application.address = (fields.get(ADDRESS_FIELD) or "").strip()


# --- 资格审核 -------------------------------------------------------------------------------


def applications_of(
    announcement: Announcement, status: ApplicationStatus | None = None
) -> list[Application]:
    stmt = sa.select(Application).where(Application.announcement_id == announcement.id)
    if status is not None:
        stmt = stmt.where(Application.status == status)
    return list(db.session.scalars(stmt.order_by(Application.submitted_at, Application.id)))


def get_application(application_id: int) -> Application:
    return get_or_not_found(
        Application, application_id, _("No such application."), "application_not_found"
    )


def person_of(application: Application) -> RosterRow:
    """The application as the roster row the enrolment path takes."""
    return RosterRow(
        number=1,
        birth_date=None,
        **{name: getattr(application, name) for name in PERSON_FIELDS},
    )


def review_flags(
    announcement: Announcement, applications: list[Application]
) -> dict[int, list[str]]:
    """What the eligibility rule says of each application, for the reviewer to weigh: the
    trade and level's rule read once for the page."""
    rule = eligibility_rule(announcement.trade_id, announcement.level)
    return {a.id: eligibility_flags(person_of(a), rule) for a in applications}


def count_applications(announcement: Announcement) -> dict[ApplicationStatus, int]:
    """How many applications stand in each state, in one grouped query."""
    counted = dict(
        db.session.execute(
            sa.select(Application.status, sa.func.count())
            .where(Application.announcement_id == announcement.id)
            .group_by(Application.status)
        ).all()
    )
    return {status: counted.get(status, 0) for status in ApplicationStatus}


def approve_application(
    application: Application, cohort: Cohort | None, actor: User
) -> Application:
    """Approved into a class: enrolled as a roster row would be, with the photo."""
    cohort = cohort or application.announcement.cohort
    announcement = application.announcement
    if cohort is None:
        raise ValidationFailed([Problem("cohort", _("Choose the class to approve into."))])
    if cohort.trade_id != announcement.trade_id or cohort.level != announcement.level:
        raise ValidationFailed([Problem("cohort", _("The class is for another trade or level."))])
    if application.status is not ApplicationStatus.PENDING:
        raise Conflict(_("This application was already reviewed."), code="already_reviewed")
    report = enrol_person(cohort, person_of(application), _("registration form"))
    if report.problems:
        raise ValidationFailed([Problem("cohort", p.message) for p in report.problems])
    enrolment = db.session.scalar(
        sa.select(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.cohort_id == cohort.id, User.id_number == application.id_number)
    )
    enrolment.photo = application.photo
    application.approve(enrolment, actor, clock.now())
    record_event(
        "application.approved",
        application,
        actor=actor,
        after={"cohort": cohort.id, "enrolment": enrolment.id},
    )
    return application


def return_application(application: Application, reason: str, actor: User) -> Application:
    """Returned with the reason and what to fix: the applicant reads it on their status page."""
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise ValidationFailed(
            [Problem("reason", _("Say what is wrong and what to fix (up to 500 characters)."))]
        )
    application.send_back(reason, actor, clock.now())
    record_event("application.returned", application, actor=actor, after={"reason": reason})
    return application
