from __future__ import annotations

from datetime import UTC
from io import BytesIO

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from certify.accounts import sessions
from certify.accounts.forms import ConfirmForm
from certify.accounts.models import Role, User
from certify.banks.formats.common import BankFileError
from certify.cohorts.services import can_manage, managed_cohort
from certify.core import clock
from certify.core.auth import LOGIN_KEY, role_required
from certify.core.errors import DomainError, ValidationFailed
from certify.core.forms import page_number, show_problems
from certify.core.transactions import writes_on_read
from certify.exams import board, reports, services
from certify.exams.forms import (
    ObjectionForm,
    OverrideForm,
    PublishForm,
    ScheduleForm,
    ScoreUploadForm,
)
from certify.exams.models import (
    ExamSession,
    PracticalScore,
    Result,
    ResultStatus,
)
from certify.extensions import db
from certify.results import services as results

bp = Blueprint("exams", __name__)
STAFF = (Role.ADMIN, Role.TRAINER, Role.EXAMINER)


# --- the worker's side ---------------------------------------------------------------


@bp.get("/exams/")
@role_required(Role.WORKER)
def my_exams():
    rows = services.sessions_for(current_user)
    db.session.commit()
    return render_template(
        "exams/my_exams.html",
        rows=rows,
        my_results=results.results_of(current_user),
        now=clock.now(),
        action_form=ConfirmForm(),
    )


@bp.post("/exams/<int:session_id>/start")
@role_required(Role.WORKER)
def start(session_id: int):
    exam = services.get_session(session_id)
    try:
        attempt = services.start_attempt(exam, current_user, request.form.get("access_code"))
    except (services.WrongAccessCode, services.AccessCodeLocked) as exc:
        db.session.commit()  # keep the count of wrong codes
        flash(exc.problems[0].message if hasattr(exc, "problems") else exc.message, "error")
        return redirect(url_for("exams.my_exams"))
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.problems[0].message, "error")
        return redirect(url_for("exams.my_exams"))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("exams.my_exams"))
    db.session.commit()
    return redirect(url_for("exams.attempt_page", attempt_id=attempt.id))


def _page_token() -> str:
    """A bearer token for the page's own API calls, kept in the login session and revoked
    with it when the worker logs out."""
    stored = session.get("api_token")
    if stored and sessions.user_for_token(stored) == current_user:
        return stored
    login = sessions.login_session_for(session.get(LOGIN_KEY))
    token, _expires = sessions.issue_token(current_user, login)
    session["api_token"] = token
    return token


@bp.route("/exams/attempt/<int:attempt_id>", methods=["GET", "POST"])
@writes_on_read("hands in the paper whose time is up; issues the page's API token")
@role_required(Role.WORKER)
def attempt_page(attempt_id: int):
    attempt = services.attempt_for(current_user, attempt_id)
    services.touch(attempt)
    if request.method == "POST":
        # The page without JavaScript: the form carries every answer.
        saved = services.answers_by_position(attempt)
        late = False
        for item in attempt.items:
            chosen = request.form.getlist(f"q{item.position}")
            if sorted(chosen) != saved.get(item.position, []) and attempt.is_open:
                try:
                    services.save_answer(attempt, item.position, chosen)
                except services.PastDeadline:
                    late = True
                except DomainError:
                    pass
        if request.form.get("action") == "submit":
            services.submit_attempt(attempt)
        db.session.commit()
        if late:
            flash(_("Time was up: answers sent after the deadline were not saved."), "warning")
        if attempt.is_open:
            flash(_("Your answers are saved."), "success")
            return redirect(url_for("exams.attempt_page", attempt_id=attempt.id))
        return redirect(url_for("exams.done", attempt_id=attempt.id))
    if not attempt.is_open:
        db.session.commit()
        return redirect(url_for("exams.done", attempt_id=attempt.id))
    token = _page_token()
    db.session.commit()
    answers = services.answers_by_position(attempt)
    return render_template(
        "exams/attempt.html",
        attempt=attempt,
        answers=answers,
        shown=services.shown_questions(
            [item.version_id for item in attempt.items], attempt.session.blueprint.trade_id
        ),
        token=token,
        server_now=clock.now(),
        remaining=int((attempt.deadline - clock.now()).total_seconds()),
    )


@bp.get("/exams/attempt/<int:attempt_id>/done")
@writes_on_read("hands in the paper whose time is up")
@role_required(Role.WORKER)
def done(attempt_id: int):
    attempt = services.attempt_for(current_user, attempt_id)
    services.touch(attempt)
    db.session.commit()
    result = db.session.scalar(
        sa.select(Result).where(
            Result.session_id == attempt.session_id, Result.user_id == current_user.id
        )
    )
    shown = result is not None and result.status is not ResultStatus.DRAFT
    answered = len(services.saved_answers(attempt))
    return render_template(
        "exams/done.html", attempt=attempt, result=result if shown else None, answered=answered
    )


# --- staff ---------------------------------------------------------------------------


def _staff_session(session_id: int) -> ExamSession:
    exam = services.get_session(session_id)
    user = current_user
    if user.role is Role.EXAMINER:
        if exam.cohort.trade not in user.trades:
            abort(403)
    elif not can_manage(user, exam.cohort):
        abort(403)
    return exam


@bp.route("/cohorts/<int:cohort_id>/exams/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.TRAINER)
def schedule(cohort_id: int):
    cohort = managed_cohort(current_user, cohort_id)
    form = ScheduleForm()
    if form.validate_on_submit():
        try:
            exam = services.schedule_session(
                cohort,
                form.opens_at.data.replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC),
                form.closes_at.data.replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC),
                duration_minutes=form.duration_minutes.data,
                access_code=(form.access_code.data or "").strip() or None,
                departure_limit=form.departure_limit.data,
                actor=current_user,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            show_problems(form, exc)
        else:
            db.session.commit()
            flash(_("The exam is scheduled."), "success")
            return redirect(url_for("exams.session_page", session_id=exam.id))
    return render_template("exams/schedule.html", cohort=cohort, form=form)


@bp.get("/exams/sessions/<int:session_id>")
@writes_on_read("hands in up to FINALISE_PER_VIEW papers whose time is up")
@role_required(*STAFF)
def session_page(session_id: int):
    exam = _staff_session(session_id)
    services.expire_overdue(exam.id, limit=board.FINALISE_PER_VIEW)  # what ran out: handed in
    state = board.parse_filter(request.args.get("state"))
    name = (request.args.get("q") or "").strip()[:64]
    shown = board.read_board(exam, state, name, page_number(request.args))

    return render_template(
        "exams/session.html",
        exam=exam,
        board=shown,
        state=state,
        filters=list(board.BoardFilter),
        name=name,
        override_form=OverrideForm(),
        locks=services.access_code_locks(exam) if exam.access_code else [],
        can_close=exam.opens_at <= clock.now() and results.window_still_open(exam, clock.now()),
        action_form=ConfirmForm(),
        now=clock.now(),
    )


@bp.post("/exams/sessions/<int:session_id>/override")
@role_required(Role.ADMIN, Role.TRAINER)
def override(session_id: int):
    exam = _staff_session(session_id)
    form = OverrideForm()
    if form.validate_on_submit():
        worker = db.session.get(User, form.user_id.data)
        if worker is None or worker not in [e.user for e in exam.cohort.enrolments]:
            abort(404)
        try:
            services.set_override(
                exam,
                worker,
                extra_minutes=form.extra_minutes.data,
                reason=form.reason.data or "",
                actor=current_user,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            flash(exc.problems[0].message, "error")
        else:
            db.session.commit()
            flash(
                _(
                    "%(name)s gets %(n)d extra minutes.",
                    name=worker.name,
                    n=form.extra_minutes.data,
                ),
                "success",
            )
    return redirect(url_for("exams.session_page", session_id=session_id))


@bp.post("/exams/sessions/<int:session_id>/access-code-locks/<int:user_id>/lift")
@role_required(Role.ADMIN, Role.TRAINER, Role.EXAMINER)
def lift_access_code_lock(session_id: int, user_id: int):
    """The proctor saw the worker and lets them type the code again."""
    exam = _staff_session(session_id)
    worker = db.session.get(User, user_id)
    if worker is None or not services.is_enrolled(worker, exam):
        abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            services.lift_access_code_lock(exam, worker, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("%(name)s may type the access code again.", name=worker.name), "success")
    return redirect(url_for("exams.session_page", session_id=session_id))


@bp.route("/exams/sessions/<int:session_id>/practical", methods=["GET", "POST"])
@role_required(Role.EXAMINER, Role.ADMIN)
def practical(session_id: int):
    exam = _staff_session(session_id)
    workers = sorted((e.user for e in exam.cohort.enrolments), key=lambda u: u.name)
    upload = ScoreUploadForm(prefix="upload")
    if (
        request.method == "POST"
        and current_user.role is Role.EXAMINER
        and "upload-file" not in request.files
    ):
        saved, problems = 0, []
        for worker in workers:
            raw = (request.form.get(f"score-{worker.id}") or "").strip()
            if not raw:
                continue
            try:
                results.record_practical_score(exam, worker, current_user, raw)
                saved += 1
            except (DomainError, ArithmeticError, ValueError) as exc:
                problems.append(
                    f"{worker.name}: {getattr(exc, 'message', _('A score is 0 to 100.'))}"
                )
        if problems:
            db.session.rollback()
            for problem in problems:
                flash(problem, "error")
        else:
            db.session.commit()
            flash(_("%(n)d scores saved.", n=saved), "success")
        return redirect(url_for("exams.practical", session_id=session_id))
    if upload.validate_on_submit():
        try:
            report = results.import_practical_scores(
                exam, upload.file.data.filename, upload.file.data.read()
            )
        except BankFileError as exc:
            flash(f"{exc.filename}: {exc.message}", "error")
        else:
            if report.problems:
                db.session.rollback()
                for problem in report.problems:
                    flash(str(problem), "error")
            else:
                db.session.commit()
                flash(_("%(n)d scores saved.", n=report.saved), "success")
        return redirect(url_for("exams.practical", session_id=session_id))
    scores = db.session.scalars(
        sa.select(PracticalScore).where(PracticalScore.session_id == exam.id)
    ).all()
    by_worker: dict[int, list[PracticalScore]] = {}
    for row in scores:
        by_worker.setdefault(row.user_id, []).append(row)
    return render_template(
        "exams/practical.html", exam=exam, workers=workers, by_worker=by_worker, upload=upload
    )


@bp.route("/exams/sessions/<int:session_id>/results", methods=["GET", "POST"])
@writes_on_read("keeps the draft results it computes")
@role_required(Role.ADMIN, Role.TRAINER, Role.EXAMINER)
def results_page(session_id: int):
    exam = _staff_session(session_id)
    publish = PublishForm()
    missing = []
    if current_user.role is Role.ADMIN and publish.validate_on_submit():
        try:
            ends = results.publish_results(
                exam,
                publish.publicity_days.data,
                actor=current_user,
                confirm_missing=publish.confirm_missing.data == "yes",
            )
        except results.PracticalScoresMissing as exc:
            db.session.rollback()
            missing = exc.workers  # the confirm step below lists them
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for("exams.results_page", session_id=session_id))
        else:
            db.session.commit()
            flash(
                _(
                    "Published. Publicity ends %(when)s.",
                    when=clock.local(ends).strftime("%Y-%m-%d %H:%M"),
                ),
                "success",
            )
            return redirect(url_for("exams.results_page", session_id=session_id))
    rows = results.session_results(exam)
    if not rows or all(r.status is ResultStatus.DRAFT for r in rows):
        rows = results.compute_results(exam)
        db.session.commit()
    return render_template(
        "exams/results.html",
        exam=exam,
        rows=rows,
        publish=publish,
        missing=missing,
        still_open=results.window_still_open(exam, clock.now()),
        publicity_url=results.publicity_url(exam) if exam.publicity_token else None,
        objection=ObjectionForm(),
        action_form=ConfirmForm(),
    )


@bp.post("/exams/sessions/<int:session_id>/close")
@role_required(Role.ADMIN, Role.TRAINER)
def close(session_id: int):
    """收卷: the window closes now and every paper still open is handed in."""
    exam = _staff_session(session_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Reload the page and send it again."), "error")
        return redirect(url_for("exams.session_page", session_id=session_id))
    try:
        count = services.close_session(exam, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("The exam is closed; %(n)d papers were handed in.", n=count), "success")
    return redirect(url_for("exams.session_page", session_id=session_id))


@bp.post("/exams/sessions/<int:session_id>/finalize")
@role_required(Role.ADMIN)
def finalize(session_id: int):
    exam = _staff_session(session_id)
    try:
        count = results.finalize_results(exam, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("%(n)d results are final.", n=count), "success")
    return redirect(url_for("exams.results_page", session_id=session_id))


@bp.post("/exams/results/<int:result_id>/objection")
@role_required(Role.ADMIN)
def objection(result_id: int):
    result = db.session.get(Result, result_id)
    if result is None:
        abort(404)
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            results.record_objection(result, form.text.data, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The objection is recorded."), "success")
    return redirect(url_for("exams.results_page", session_id=result.session_id))


@bp.get("/publicity/<token>")
def publicity(token: str):
    """公示: public, masked, only those proposed for certification, reachable only through
    the address the office hands out, and only for its period and a short grace."""
    exam = db.session.scalar(sa.select(ExamSession).where(ExamSession.publicity_token == token))
    if exam is None:
        abort(404)
    shown = results.publicity_for(exam)
    if shown.gone:
        return render_template("exams/publicity_gone.html", exam=exam, shown=shown), 410
    return render_template("exams/publicity.html", exam=exam, shown=shown)


@bp.get("/exams/sessions/<int:session_id>/report")
@role_required(Role.ADMIN, Role.TRAINER)
def report(session_id: int):
    exam = _staff_session(session_id)
    return render_template("exams/report.html", exam=exam, report=reports.session_report(exam))


@bp.get("/exams/sessions/<int:session_id>/results.xlsx")
@role_required(Role.ADMIN, Role.TRAINER)
def results_export(session_id: int):
    exam = _staff_session(session_id)
    data = reports.results_xlsx(exam)
    return send_file(
        BytesIO(data),
        as_attachment=True,
        download_name=f"results-{exam.id}.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
