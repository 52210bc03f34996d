"""The home page composes what each domain has for the user: their classes, what to score,
the office's batches and late deadlines, the reviewer's inbox. The domains know nothing of it."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from certify.accounts.models import Role
from certify.cohorts.services import worker_cohorts
from certify.endorsement import deadlines
from certify.endorsement.services import batch_counts
from certify.exams.services import sessions_to_score

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    admin, reviewer = current_user.role is Role.ADMIN, current_user.role is Role.HR
    return render_template(
        "home/index.html",
        my_cohorts=worker_cohorts(current_user),
        to_score=sessions_to_score(current_user),
        batch_counts=batch_counts() if admin else None,
        late_deadlines=deadlines.flagged_deadlines() if admin else [],
        review_inbox=deadlines.review_inbox() if reviewer else [],
    )
