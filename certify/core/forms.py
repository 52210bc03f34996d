"""Glue between service validation and WTForms: problems land on the right field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, TypeVar
from urllib.parse import unquote, urlsplit

from flask import flash, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField

from certify.core.errors import DomainError, ValidationFailed
from certify.core.transactions import discard_changes


def show_problems(form: FlaskForm, exc: ValidationFailed) -> None:
    """The form is shown again with each problem on its field: nothing of it is saved."""
    discard_changes()
    for problem in exc.problems:
        field = getattr(form, problem.field, None)
        if field is not None and hasattr(field, "errors"):
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            field.errors.append(problem.message)
        else:
            flash(problem.message, "error")


def flash_refusal(exc: DomainError) -> None:
    """A refused action: nothing of it is saved, and the next page says why."""
    discard_changes()
    flash(exc.message, "error")


T = TypeVar("T")


class Accepted(Generic[T]):
    """What the service gave back for a posted form it accepted (truthy, even for None)."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value


def accept_form(
    form: FlaskForm, save: Callable[[], T], fields: dict[str, str] | None = None
) -> Accepted[T] | None:
    """The post-a-form step every form page shares: when the form is posted and valid, run
    `save` (the service). None when it was not posted, not valid, or the service refused it;
    the problems are then on their fields (`fields` renames the service's field names to the
    form's), and nothing the service wrote is kept.

        if done := accept_form(form, lambda: services.update_trade(trade, data)):
            flash(...)
            return redirect(...)
        return render_template(..., form=form)
    """
    if not form.validate_on_submit():
        return None
    try:
        return Accepted(save())
    except ValidationFailed as exc:
        if fields:  # the service names its fields otherwise (e.g. by a spreadsheet's columns)
            exc = ValidationFailed(
                [type(p)(fields.get(p.field, p.field), p.message) for p in exc.problems]
            )
        show_problems(form, exc)
        return None


def flash_posted_form(form: FlaskForm, save: Callable[[], object], said: str) -> bool:
    """A small form posted from a page that the view then redirects back to: the next page
    says `said`, or each problem of the form or of the service, with nothing of it saved."""
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return False
    try:
        save()
    except ValidationFailed as exc:
        discard_changes()
        for problem in exc.problems:
            flash(problem.message, "error")
        return False
    except DomainError as exc:  # refused as a whole (already done, closed …)
        flash_refusal(exc)
        return False
    flash(said, "success")
    return True


def flash_outcome(act: Callable[[], T], said: Callable[[T], str]) -> bool:
    """A one-button action: the next page says what it did (`said` of what the service gave
    back), or why it was refused, with nothing of the refusal saved. True when it was done."""
    try:
        value = act()
    except DomainError as exc:
        flash_refusal(exc)
        return False
    flash(said(value), "success")
    return True


# Control characters (tab, CR, LF …) and backslashes: browsers drop the first and read the
# second as "/", so "/\t/evil.example" and "/\\evil.example" both leave the site.
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")


def is_same_site_path(target: str | None) -> bool:
    """True for a path on this site ("/exams/", "/learn/?a=1"): never a scheme, a host, a
    scheme-relative "//host", a backslash or a control character, encoded or not."""
    if not target or len(target) > 2048:
        return False
    for text in (target, unquote(target)):
        if not text.startswith("/") or text.startswith("//") or _UNSAFE_IN_PATH.search(text):
            return False
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_next(target: str | None, default: str) -> str:
    """The one check for every redirect target a request names (`next`, a form's back link):
    a same-site path, or `default`."""
    return target if is_same_site_path(target) else default


MAX_PAGE = 10_000


def page_url(number: int) -> str:
    """This page's address at page `number`, its filters kept: the pager's links."""
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": number}
    return url_for(request.endpoint, **args)


def page_number(args) -> int:
    """The `page` query argument, kept between 1 and MAX_PAGE: a huge page number would
    overflow the database's OFFSET and answer 500 instead of an empty page."""
    page = args.get("page", 1, type=int) or 1
    return min(max(page, 1), MAX_PAGE)


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token protects one-button actions."""

    submit = SubmitField(_l("Confirm"))
