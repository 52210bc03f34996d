"""From graded attempts and examiners' scores to published, then final, results."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from certify.accounts.models import Role, User
from certify.audit.services import record_event
from certify.cohorts.models import Enrolment
from certify.config import DEFAULT_PUBLICITY_GRACE_DAYS
from certify.core import clock
from certify.core.errors import Conflict, DomainError, Forbidden, Problem, ValidationFailed
from certify.core.idcard import normalise_id_number
from certify.core.tables import ImportProblem, Unit, UnusableFile, chosen_sheet, read_table
from certify.core.workdays import add_working_days
from certify.exams.models import Attempt, AttemptStatus, ExamSession
from certify.exams.services import touch
from certify.extensions import db
from certify.results.models import Objection, PracticalScore, Result, ResultStatus

DEFAULT_PUBLICITY_DAYS = 5


class ExamStillOpen(Conflict):
    code = "exam_running"


class PracticalScoresMissing(Conflict):
    """Workers who sat the theory have no practical score: publishing would fail them."""

    code = "practical_scores_missing"

    def __init__(self, workers: list[User]):
        self.workers = workers
        names = "、".join(w.name or w.username for w in workers)
        super().__init__(
            _(
                "%(n)d workers sat the theory but have no practical score: %(names)s. "
                "Publishing now marks them not passed. Enter their scores first, or confirm.",
                n=len(workers),
                names=names,
            )
        )


# --- practical scores -----------------------------------------------------------------


def record_practical_score(
    session: ExamSession, worker: User, examiner: User, score: Decimal | float
) -> PracticalScore:
    value = Decimal(str(score))
    if examiner.role is not Role.EXAMINER:
        raise Forbidden(_("Only examiners enter practical scores."), code="not_examiner")
    if session.cohort.trade not in examiner.trades:
        raise Forbidden(_("This examiner is not accredited for the trade."), code="not_accredited")
    if not Decimal(0) <= value <= Decimal(100):
        raise ValidationFailed([Problem("score", _("A score is 0 to 100."))])
    _check_not_final(session, worker)
    row = db.session.scalar(
        sa.select(PracticalScore).where(
            PracticalScore.session_id == session.id,
            PracticalScore.user_id == worker.id,
            PracticalScore.examiner_id == examiner.id,
        )
    )
    before = None if row is None else row.score_hundredths / 100
    if row is None:
        row = PracticalScore(session_id=session.id, user_id=worker.id, examiner_id=examiner.id)
        db.session.add(row)
    row.score_hundredths = int((value * 100).quantize(Decimal(1)))
    row.entered_at = clock.now()
    db.session.flush()
    record_event(
        "practical_score.entered",
        row,
        actor=examiner,
        before={"score": before} if before is not None else None,
        after={"session": session.id, "worker": worker.id, "score": float(value)},
    )
    return row


@dataclass
class ScoresEntered:
    """What one posting of the scoring page did: the scores saved, or every refusal by name."""

    saved: int = 0
    problems: list[str] = field(default_factory=list)


def record_practical_scores(
    session: ExamSession, examiner: User, typed: list[tuple[User, str]]
) -> ScoresEntered:
    """The examiner's boxes, each worker's typed score (blank: not scored yet); all or none —
    the caller discards the writes when there are problems."""
    entered = ScoresEntered()
    for worker, raw in typed:
        if not raw.strip():
            continue
        try:
            record_practical_score(session, worker, examiner, raw.strip())
            entered.saved += 1
        except (DomainError, ArithmeticError, ValueError) as exc:
            message = getattr(exc, "message", None) or _("A score is 0 to 100.")
            entered.problems.append(f"{worker.name}: {message}")
    return entered


def practical_scores_by_worker(session: ExamSession) -> dict[int, list[PracticalScore]]:
    """Each worker's practical scores in the session, one per examiner."""
    by_worker: dict[int, list[PracticalScore]] = {}
    rows = db.session.scalars(
        sa.select(PracticalScore).where(PracticalScore.session_id == session.id)
    )
    for row in rows:
        by_worker.setdefault(row.user_id, []).append(row)
    return by_worker


def _check_not_final(session: ExamSession, worker: User) -> None:
    result = db.session.scalar(
        sa.select(Result).where(Result.session_id == session.id, Result.user_id == worker.id)
    )
    if result is not None and result.status is not ResultStatus.DRAFT:
        raise Conflict(_("Results are published; scores can no longer change."), code="published")


@dataclass
class ScoreImport:
    rows: int = 0
    saved: int = 0
    problems: list[ImportProblem] = field(default_factory=list)


def import_practical_scores(session: ExamSession, filename: str, data: bytes) -> ScoreImport:
    """CSV or xlsx with 证件号码, 考评员 (examiner user name), 分数: all rows or none."""
    rows = _score_rows(filename, data)
    index = _score_columns(filename, rows[0][1])
    report = ScoreImport()
    enrolled = {
        u.id_number: u
        for u in db.session.scalars(
            sa.select(User)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.cohort_id == session.cohort_id)
        )
    }
    pending = []
    for number, row in rows[1:]:
        if not any(row):
            continue
        report.rows += 1

        def problem(fld, msg, number=number):
            report.problems.append(ImportProblem(filename, number, Unit.ROW, fld, msg))

        cells = {key: row[i] if i < len(row) else "" for key, i in index.items()}
        pending.append(_check_score_row(session, enrolled, cells, problem))
    if report.problems:
        return report
    for worker, examiner, score in pending:
        record_practical_score(session, worker, examiner, score)
        report.saved += 1
    return report


def _score_rows(filename: str, data: bytes) -> list[tuple[int, list[str]]]:
    """The first visible sheet's rows as text, read whole before the file is closed."""
    with read_table(filename, data) as sheets:
        rows = [
            (number, ["" if c is None else str(c).strip() for c in cells])
            for number, cells in chosen_sheet(filename, sheets)
        ]
    if not rows:
        raise UnusableFile(filename, _("The file has no rows."))
    return rows


def _score_columns(filename: str, header: list[str]) -> dict[str, int]:
    """Where each needed column is, by any of its accepted names; the file is unusable
    without one of them, whatever its rows say."""
    need = {
        "证件号码": ("证件号码", "身份证号"),
        "考评员": ("考评员", "考评员账号"),
        "分数": ("分数", "成绩"),
    }
    index = {}
    for key, names in need.items():
        found = next((i for i, h in enumerate(header) if h in names), None)
        if found is None:
            raise UnusableFile(
                filename,
                _(
                    "The first row must hold 证件号码, 考评员 and 分数; missing: %(name)s.",
                    name=key,
                ),
            )
        index[key] = found
    return index


def _check_score_row(
    session: ExamSession, enrolled: dict[str, User], cells: dict[str, str], problem
) -> tuple[User | None, User | None, Decimal | None]:
    """(worker, examiner, score) of one row, each checked as record_practical_score would,
    so every row's problems are told before any score is saved."""
    worker = enrolled.get(normalise_id_number(cells["证件号码"]))
    examiner = db.session.scalar(sa.select(User).where(User.username == cells["考评员"]))
    try:
        score = Decimal(cells["分数"])
    except InvalidOperation:
        score = None
    if worker is None:
        problem("证件号码", _("Nobody with this ID number is in the class."))
    if examiner is None or examiner.role is not Role.EXAMINER:
        problem("考评员", _("No examiner account with this user name."))
    elif session.cohort.trade not in examiner.trades:
        problem("考评员", _("This examiner is not accredited for the trade."))
    if score is None or not Decimal(0) <= score <= Decimal(100):
        problem("分数", _("A score is 0 to 100."))
    return worker, examiner, score


# --- results -----------------------------------------------------------------------


def compute_results(session: ExamSession) -> list[Result]:
    """Draft results for everyone enrolled, from graded attempts and averaged practical
    scores, kept: an overdue paper is handed in first. Published results stay as they are."""
    return _results(session, keep=True)


def preview_results(session: ExamSession) -> list[Result]:
    """The same decisions, read only (the results page before publishing): nothing is kept,
    and a paper whose time is up but which the schedule has not graded yet has no score."""
    return _results(session, keep=False)


def _results(session: ExamSession, keep: bool) -> list[Result]:
    trade = session.cohort.trade
    workers = db.session.scalars(
        sa.select(User)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.cohort_id == session.cohort_id)
    ).all()
    attempts = {
        a.user_id: a
        for a in db.session.scalars(sa.select(Attempt).where(Attempt.session_id == session.id))
    }
    stored = {
        r.user_id: r
        for r in db.session.scalars(sa.select(Result).where(Result.session_id == session.id))
    }
    practical: dict[int, list[int]] = {}
    for row in db.session.scalars(
        sa.select(PracticalScore).where(PracticalScore.session_id == session.id)
    ):
        practical.setdefault(row.user_id, []).append(row.score_hundredths)
    results = []
    for worker in workers:
        attempt = attempts.get(worker.id)
        result = stored.get(worker.id)
        if result is not None and result.status is not ResultStatus.DRAFT:
            results.append(result)
            continue
        if keep:
            if attempt is not None:
                touch(attempt)
            if result is None:
                result = Result(session_id=session.id, user_id=worker.id)
                db.session.add(result)
        else:  # a copy nobody adds to the session: the draft row, if any, stays untouched
            result = Result(session_id=session.id, user_id=worker.id, objections=[])
        result.status, result.user, result.session = ResultStatus.DRAFT, worker, session
        _decide(result, trade, attempt, practical.get(worker.id))
        results.append(result)
    if keep:
        db.session.flush()
    return results


def _decide(result: Result, trade, attempt: Attempt | None, scores: list[int] | None) -> None:
    theory = (
        attempt.score_hundredths
        if attempt is not None and attempt.status is AttemptStatus.GRADED
        else None
    )
    practical_avg = round(sum(scores) / len(scores)) if scores else None
    result.theory_hundredths = theory if trade.assesses_theory else None
    result.practical_hundredths = practical_avg if trade.assesses_practical else None
    # 缺考: never started the theory (or, where there is none, never scored in practice).
    result.absent = attempt is None if trade.assesses_theory else not scores
    passed = not result.absent
    if trade.assesses_theory:
        passed &= theory is not None and theory >= trade.theory_pass_mark * 100
    if trade.assesses_practical:
        passed &= practical_avg is not None and practical_avg >= trade.practical_pass_mark * 100
    result.passed = passed


def missing_practical_scores(session: ExamSession, results: list[Result]) -> list[User]:
    """Who sat the theory but has no practical score yet (absentees need none)."""
    trade = session.cohort.trade
    if not trade.assesses_practical:
        return []
    return [
        r.user
        for r in results
        if r.status is ResultStatus.DRAFT and not r.absent and r.practical_hundredths is None
    ]


def publish_results(
    session: ExamSession,
    publicity_days: int = DEFAULT_PUBLICITY_DAYS,
    actor=None,
    *,
    confirm_missing: bool = False,
) -> datetime:
    """Start the publicity period (公示). Refused while the exam can still be sat (results
    would be final before everyone had their chance), and, unless confirmed, while workers
    who sat the theory still have no practical score."""
    if not 0 <= publicity_days <= 60:
        raise ValidationFailed(
            [Problem("publicity_days", _("Publicity lasts 0 to 60 working days."))]
        )
    now = clock.now()
    _check_exam_over(session, now)
    drafts, missing = _drafts_to_publish(session, confirm_missing)
    ends = add_working_days(now, publicity_days)
    if session.publicity_token is None:
        session.publicity_token = secrets.token_urlsafe(16)
    for result in drafts:
        result.publish(now, ends)
    record_event(
        "results.published",
        session,
        actor=actor,
        after={
            "results": len(drafts),
            "passed": sum(r.passed for r in drafts),
            "absent": sum(r.absent for r in drafts),
            "without_practical": [w.id for w in missing],
            "publicity_ends_at": ends.isoformat(),
        },
    )
    return ends


def _check_exam_over(session: ExamSession, now: datetime) -> None:
    """Nobody is still writing the paper and the window to start it has closed."""
    running = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Attempt)
        .where(
            Attempt.session_id == session.id,
            Attempt.status == AttemptStatus.IN_PROGRESS,
            Attempt.deadline > now,
        )
    )
    if running:
        raise ExamStillOpen(_("%(n)d workers are still taking the exam.", n=running))
    if session.window_still_open(now):
        raise ExamStillOpen(
            _(
                "The exam is still open for sitting. Publish after it closes, or close it now "
                "on the exam's page (flask exams close)."
            )
        )


def _drafts_to_publish(
    session: ExamSession, confirm_missing: bool
) -> tuple[list[Result], list[User]]:
    """The draft results, computed afresh, and who among them has no practical score (which
    only a confirmation lets through, as it marks them not passed)."""
    results = compute_results(session)
    drafts = [r for r in results if r.status is ResultStatus.DRAFT]
    if not drafts:
        raise Conflict(_("There are no draft results to publish."), code="nothing_to_publish")
    missing = missing_practical_scores(session, drafts)
    if missing and not confirm_missing:
        raise PracticalScoresMissing(missing)
    return drafts, missing


# --- 公示 -------------------------------------------------------------------------------


@dataclass
class Publicity:
    """What the public 公示 page may show: those proposed for certification, nobody else."""

    session: ExamSession
    proposed: list[Result]
    ends_at: datetime | None
    gone: bool


def publicity_for(session: ExamSession, grace_days: int | None = None) -> Publicity:
    """The 公示 of a published session. Personal results are nobody else's business: only
    those who passed are listed, without scores; after the period and a grace for late
    objections (PUBLICITY_GRACE_DAYS working days) the page is gone."""
    if grace_days is None:
        grace_days = int(
            current_app.config.get("PUBLICITY_GRACE_DAYS", DEFAULT_PUBLICITY_GRACE_DAYS)
        )
    published = [r for r in session_results(session) if r.status is not ResultStatus.DRAFT]
    ends = max((r.publicity_ends_at for r in published if r.publicity_ends_at), default=None)
    gone = ends is not None and clock.now() >= add_working_days(ends, grace_days)
    proposed = [r for r in published if r.passed and not r.absent]
    return Publicity(session, proposed, ends, gone)


def publicity_url(session: ExamSession) -> str:
    """The 公示 page's public address, as handed to the workers."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/publicity/{session.publicity_token}"


def finalize_results(session: ExamSession, actor=None) -> int:
    now = clock.now()
    published = db.session.scalars(
        sa.select(Result).where(
            Result.session_id == session.id, Result.status == ResultStatus.PUBLISHED
        )
    ).all()
    if not published:
        raise Conflict(_("There are no published results to finalise."), code="nothing_published")
    for result in published:
        result.finalize(now)  # refuses while publicity runs
    record_event("results.finalized", session, actor=actor, after={"results": len(published)})
    return len(published)


def record_objection(result: Result, text: str, actor=None) -> Objection:
    if result.status is not ResultStatus.PUBLISHED:
        raise Conflict(_("Objections are taken during publicity."), code="not_in_publicity")
    if not (text or "").strip():
        raise ValidationFailed([Problem("text", _("Write what the objection is."))])
    objection = Objection(
        result_id=result.id,
        text=text.strip()[:2000],
        recorded_at=clock.now(),
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(objection)
    record_event("result.objection", result, actor=actor, after={"text": objection.text})
    return objection


def session_results(session: ExamSession) -> list[Result]:
    return list(
        db.session.scalars(
            sa.select(Result)
            .join(User, User.id == Result.user_id)
            .where(Result.session_id == session.id)
            .order_by(User.name)
        )
    )


def published_result_for(worker: User, session_id: int) -> Result | None:
    """The worker's own result of one session, once it is published (never a draft)."""
    return db.session.scalar(
        sa.select(Result).where(
            Result.session_id == session_id,
            Result.user_id == worker.id,
            Result.status != ResultStatus.DRAFT,
        )
    )


def results_of(worker: User) -> list[Result]:
    """The worker's own published and final results, 缺考 included, newest first."""
    return list(
        db.session.scalars(
            sa.select(Result)
            .join(ExamSession, ExamSession.id == Result.session_id)
            .where(Result.user_id == worker.id, Result.status != ResultStatus.DRAFT)
            .order_by(ExamSession.opens_at.desc())
        )
    )
