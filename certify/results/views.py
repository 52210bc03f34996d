"""Results pages: practical scores, the pass decisions, publicity (公示), final results and
the session's report."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from certify.accounts.models import Role
from certify.core import clock
from certify.core.auth import role_required
from certify.core.downloads import XLSX, send_private
from certify.core.errors import DomainError
from certify.core.forms import ConfirmForm, flash_outcome, flash_refusal
from certify.core.tables import UnusableFile
from certify.core.transactions import discard_changes
from certify.exams.models import ExamSession
from certify.exams.services import overseen_session
from certify.extensions import db
from certify.results import reports, services
from certify.results.forms import ObjectionForm, PublishForm, ScoreUploadForm
from certify.results.models import Result, ResultStatus

bp = Blueprint("results", __name__)


# The worker's exam pages show their own published result: exams knows no results, so the
# templates ask through these two globals.
bp.add_app_template_global(services.results_of, "published_results_of")
bp.add_app_template_global(services.published_result_for, "published_result_for")


@bp.route("/exams/sessions/<int:session_id>/practical", methods=["GET", "POST"])
@role_required(Role.EXAMINER, Role.ADMIN)
def practical(session_id: int):
    exam = overseen_session(session_id, current_user)
    workers = sorted((e.user for e in exam.cohort.enrolments), key=lambda u: u.name)
    upload = ScoreUploadForm(prefix="upload")
    if (
        request.method == "POST"
        and current_user.role is Role.EXAMINER
        and "upload-file" not in request.files
    ):
        typed = [(w, request.form.get(f"score-{w.id}") or "") for w in workers]
        entered = services.record_practical_scores(exam, current_user, typed)
        _flash_scores(entered.saved, entered.problems)
        return redirect(url_for("results.practical", session_id=session_id))
    if upload.validate_on_submit():
        try:
            report = services.import_practical_scores(
                exam, upload.file.data.filename, upload.file.data.read()
            )
        except UnusableFile as exc:
            _flash_scores(0, [f"{exc.filename}: {exc.message}"])
        else:
            _flash_scores(report.saved, [str(p) for p in report.problems])
        return redirect(url_for("results.practical", session_id=session_id))
    return render_template(
        "results/practical.html",
        exam=exam,
        workers=workers,
        by_worker=services.practical_scores_by_worker(exam),
        upload=upload,
    )


def _flash_scores(saved: int, problems: list[str]) -> None:
    """Every problem, and then nothing saved; or how many scores were saved."""
    if problems:
        discard_changes()
        for problem in problems:
            flash(problem, "error")
    else:
        flash(_("%(n)d scores saved.", n=saved), "success")


@bp.route("/exams/sessions/<int:session_id>/results", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.TRAINER, Role.EXAMINER)
def results_page(session_id: int):
    exam = overseen_session(session_id, current_user)
    publish = PublishForm()
    missing = []
    if current_user.role is Role.ADMIN and publish.validate_on_submit():
        try:
            ends = services.publish_results(
                exam,
                publish.publicity_days.data,
                actor=current_user,
                confirm_missing=publish.confirm_missing.data == "yes",
            )
        except services.PracticalScoresMissing as exc:
            discard_changes()
            missing = exc.workers  # the confirm step below lists them
        except DomainError as exc:
            flash_refusal(exc)
            return redirect(url_for("results.results_page", session_id=session_id))
        else:
            flash(
                _(
                    "Published. Publicity ends %(when)s.",
                    when=clock.local(ends).strftime("%Y-%m-%d %H:%M"),
                ),
                "success",
            )
            return redirect(url_for("results.results_page", session_id=session_id))
    rows = services.session_results(exam)
    if not rows or all(r.status is ResultStatus.DRAFT for r in rows):
        rows = services.preview_results(exam)
    return render_template(
        "results/results.html",
        exam=exam,
        rows=rows,
        publish=publish,
        missing=missing,
        still_open=exam.window_still_open(clock.now()),
        publicity_url=services.publicity_url(exam) if exam.publicity_token else None,
        objection=ObjectionForm(),
        action_form=ConfirmForm(),
    )


@bp.post("/exams/sessions/<int:session_id>/finalize")
@role_required(Role.ADMIN)
def finalize(session_id: int):
    exam = overseen_session(session_id, current_user)
    flash_outcome(
        lambda: services.finalize_results(exam, actor=current_user),
        lambda n: _("%(n)d results are final.", n=n),
    )
    return redirect(url_for("results.results_page", session_id=session_id))


@bp.post("/exams/results/<int:result_id>/objection")
@role_required(Role.ADMIN)
def objection(result_id: int):
    result = db.session.get(Result, result_id)
    if result is None:
        abort(404)
    form = ObjectionForm()
    if form.validate_on_submit():
        flash_outcome(
            lambda: services.record_objection(result, form.text.data, actor=current_user),
            lambda _done: _("The objection is recorded."),
        )
    return redirect(url_for("results.results_page", session_id=result.session_id))


@bp.get("/publicity/<token>")
def publicity(token: str):
    """公示: public, masked, only those proposed for certification, reachable only through
    the address the office hands out, and only for its period and a short grace."""
    exam = db.session.scalar(sa.select(ExamSession).where(ExamSession.publicity_token == token))
    if exam is None:
        abort(404)
    shown = services.publicity_for(exam)
    if shown.gone:
        return render_template("results/publicity_gone.html", exam=exam, shown=shown), 410
    return render_template("results/publicity.html", exam=exam, shown=shown)


@bp.get("/exams/sessions/<int:session_id>/report")
@role_required(Role.ADMIN, Role.TRAINER)
def report(session_id: int):
    exam = overseen_session(session_id, current_user)
    return render_template("results/report.html", exam=exam, report=reports.session_report(exam))


@bp.get("/exams/sessions/<int:session_id>/results.xlsx")
@role_required(Role.ADMIN, Role.TRAINER)
def results_export(session_id: int):
    exam = overseen_session(session_id, current_user)
    data = reports.results_xlsx(exam)
    return send_private(data, f"results-{exam.id}.xlsx", XLSX)
