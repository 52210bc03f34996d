from __future__ import annotations

from datetime import UTC

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from certify.accounts import sessions
from certify.accounts.models import Role, User
from certify.accounts.sessions import LOGIN_KEY
from certify.cohorts.services import managed_cohort
from certify.core import clock
from certify.core.auth import role_required
from certify.core.errors import DomainError, ValidationFailed
from certify.core.forms import ConfirmForm, accept_form, flash_outcome, flash_refusal, page_number
from certify.core.transactions import discard_changes
from certify.exams import board, services
from certify.exams.forms import (
    OverrideForm,
    ScheduleForm,
)
from certify.extensions import db

bp = Blueprint("exams", __name__)
STAFF = (Role.ADMIN, Role.TRAINER, Role.EXAMINER)


# --- the worker's side ---------------------------------------------------------------


@bp.get("/exams/")
@role_required(Role.WORKER)
def my_exams():
    rows = services.sessions_for(current_user)
    return render_template(
        "exams/my_exams.html",
        rows=rows,
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
        # a redirect: the edge commits the count of wrong codes
        flash(exc.problems[0].message if hasattr(exc, "problems") else exc.message, "error")
        return redirect(url_for("exams.my_exams"))
    except ValidationFailed as exc:
        discard_changes()
        flash(exc.problems[0].message, "error")
        return redirect(url_for("exams.my_exams"))
    except DomainError as exc:
        flash_refusal(exc)
        return redirect(url_for("exams.my_exams"))
    return redirect(url_for("exams.attempt_page", attempt_id=attempt.id))


def _page_token() -> str:
    """A bearer token for the page's own API calls, signed for this login: it stops working
    when the worker logs out, and showing the page stores nothing."""
    login = sessions.login_session_for(session.get(LOGIN_KEY))
    return sessions.issue_page_token(current_user, login)


@bp.route("/exams/attempt/<int:attempt_id>", methods=["GET", "POST"])
@role_required(Role.WORKER)
def attempt_page(attempt_id: int):
    attempt = services.attempt_for(current_user, attempt_id)
    if request.method == "POST":
        services.touch(attempt)
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
        if late:
            flash(_("Time was up: answers sent after the deadline were not saved."), "warning")
        if attempt.is_open:
            flash(_("Your answers are saved."), "success")
            return redirect(url_for("exams.attempt_page", attempt_id=attempt.id))
        return redirect(url_for("exams.done", attempt_id=attempt.id))
    if not attempt.accepts_answers_at(clock.now()):
        # Time is up: the schedule hands the paper in; showing it writes nothing.
        return redirect(url_for("exams.done", attempt_id=attempt.id))
    token = _page_token()
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
@role_required(Role.WORKER)
def done(attempt_id: int):
    attempt = services.attempt_for(current_user, attempt_id)
    now = clock.now()
    return render_template(
        "exams/done.html",
        attempt=attempt,
        answered=len(services.saved_answers(attempt)),
        status=attempt.status_at(now),
        ended_at=attempt.ended_at_as_of(now),
    )


# --- staff ---------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/exams/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.TRAINER)
def schedule(cohort_id: int):
    cohort = managed_cohort(current_user, cohort_id)
    form = ScheduleForm()
    scheduled = accept_form(
        form,
        lambda: services.schedule_session(
            cohort,
            form.opens_at.data.replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC),
            form.closes_at.data.replace(tzinfo=clock.LOCAL_TZ).astimezone(UTC),
            duration_minutes=form.duration_minutes.data,
            access_code=(form.access_code.data or "").strip() or None,
            departure_limit=form.departure_limit.data,
            actor=current_user,
        ),
    )
    if scheduled:
        flash(_("The exam is scheduled."), "success")
        return redirect(url_for("exams.session_page", session_id=scheduled.value.id))
    return render_template("exams/schedule.html", cohort=cohort, form=form)


@bp.get("/exams/sessions/<int:session_id>")
@role_required(*STAFF)
def session_page(session_id: int):
    exam = services.overseen_session(session_id, current_user)
    state = board.parse_filter(request.args.get("state"))
    name = (request.args.get("q") or "").strip()[:64]
    now = clock.now()
    shown = board.read_board(exam, state, name, page_number(request.args), now)

    return render_template(
        "exams/session.html",
        exam=exam,
        board=shown,
        state=state,
        filters=list(board.BoardFilter),
        name=name,
        override_form=OverrideForm(),
        locks=services.access_code_locks(exam) if exam.access_code else [],
        can_close=exam.opens_at <= clock.now() and exam.window_still_open(clock.now()),
        action_form=ConfirmForm(),
        now=clock.now(),
    )


@bp.post("/exams/sessions/<int:session_id>/override")
@role_required(Role.ADMIN, Role.TRAINER)
def override(session_id: int):
    exam = services.overseen_session(session_id, current_user)
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
            discard_changes()
            flash(exc.problems[0].message, "error")
        else:
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
    exam = services.overseen_session(session_id, current_user)
    worker = db.session.get(User, user_id)
    if worker is None or not services.is_enrolled(worker, exam):
        abort(404)
    if ConfirmForm().validate_on_submit():
        flash_outcome(
            lambda: services.lift_access_code_lock(exam, worker, actor=current_user),
            lambda _done: _("%(name)s may type the access code again.", name=worker.name),
        )
    return redirect(url_for("exams.session_page", session_id=session_id))


@bp.post("/exams/sessions/<int:session_id>/close")
@role_required(Role.ADMIN, Role.TRAINER)
def close(session_id: int):
    """收卷: the window closes now and every paper still open is handed in."""
    exam = services.overseen_session(session_id, current_user)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Reload the page and send it again."), "error")
        return redirect(url_for("exams.session_page", session_id=session_id))
    flash_outcome(
        lambda: services.close_session(exam, actor=current_user),
        lambda n: _("The exam is closed; %(n)d papers were handed in.", n=n),
    )
    return redirect(url_for("exams.session_page", session_id=session_id))
