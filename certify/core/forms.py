"""Glue between service validation and WTForms: problems land on the right field."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_wtf import FlaskForm

from certify.core.errors import ValidationFailed


def show_problems(form: FlaskForm, exc: ValidationFailed) -> None:
    for problem in exc.problems:
        field = getattr(form, problem.field, None)
        if field is not None and hasattr(field, "errors"):
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            field.errors.append(problem.message)
        else:
            flash(problem.message, "error")


def safe_next(target: str | None, default: str) -> str:
    """Only follow redirects inside this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


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
