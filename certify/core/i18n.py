"""Language choice: Simplified Chinese unless the person asked for English."""

from __future__ import annotations

import os

from flask import has_request_context, request, session
from flask_login import current_user

SUPPORTED_LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
LOCALE_NAMES = {"zh": "中文", "en": "English"}
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def remember_requested_locale() -> None:
    """?lang=en on any page switches the language for the rest of the visit."""
    wanted = request.args.get("lang")
    if wanted in SUPPORTED_LOCALES:
        session["lang"] = wanted


def select_locale() -> str:
    if not has_request_context():  # the CLI: Chinese unless CERTIFY_LANG says otherwise
        wanted = os.environ.get("CERTIFY_LANG", DEFAULT_LOCALE)
        return wanted if wanted in SUPPORTED_LOCALES else DEFAULT_LOCALE
    wanted = request.args.get("lang")
    if wanted in SUPPORTED_LOCALES:
        return wanted
    if session.get("lang") in SUPPORTED_LOCALES:
        return session["lang"]
    if current_user and current_user.is_authenticated and current_user.locale in SUPPORTED_LOCALES:
        return current_user.locale
    return DEFAULT_LOCALE
