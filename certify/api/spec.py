"""The machinery that turns the API's declarations into /api/v1/openapi.json (flask-smorest).

`ApiBlueprint` is flask-smorest's Blueprint: `@bp.arguments(Schema)` loads and validates a
body, `@bp.response(200, Schema)` dumps and documents the answer, path parameters come from
the routes' converters. On top of it, each decorator documents what it refuses (`refuses`):
`token_required` its 401, the body's schema its 422, and so on, with the codes, so every
operation lists exactly its error answers. The document is built once, when the app registers
the blueprint; flask-smorest's Api serves no pages of its own and handles no errors (the
site's error pages and the API's error bodies stay as they are).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from copy import deepcopy

from flask import Flask
from flask_smorest import Api, Blueprint
from flask_smorest.spec.plugins import FlaskPlugin
from marshmallow import EXCLUDE, missing
from webargs.flaskparser import FlaskParser

from certify.api import schemas
from certify.core.errors import DomainError

BEARER = [{"bearer": []}]

# What each error code means, for the document (the messages themselves are for people).
CODES = {
    "unauthorized": "no token, or it expired or was revoked",
    "login_failed": "wrong name or password, counted (LOGIN_RATE_LIMIT)",
    "password_change_required": "the first password must be changed on the website first",
    "busy": "the database is busy or restarting: try again",
    "session_not_found": "no such exam session",
    "not_enrolled": "the session is not for me",
    "not_open_yet": "the session has not opened",
    "session_closed": "the session has closed",
    "validation_failed": "refused, as the message says (wrong option or 入场码, unknown event)",
    "access_code_locked": "too many wrong access codes, locked for a while",
    "attempt_not_found": "no such attempt",
    "not_your_attempt": "someone else's attempt",
    "question_not_on_paper": "no such question number on this paper",
    "invalid_answer": 'the body is not {"answer": [option ids]}',
    "attempt_closed": "the paper is handed in",
    "past_deadline": "the time is up",
    "not_published": "results are shown once published",
    "not_graded": "not graded yet",
    "404": "no such address (an id out of range, or not of its type)",
    "429": "too many tries: wait and try again",
}
STATUS_NAMES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    422: "Refused body",
    423: "Locked",
    429: "Too many requests",
    503: "Busy",
}


def refuses(status: int, *codes: str) -> Callable:
    """Document that the decorated view answers `status` with these error codes."""

    def decorate(view: Callable) -> Callable:
        note_refusal(view, status, *codes)
        return view

    return decorate


def note_refusal(view: Callable, status: int, *codes: str) -> None:
    view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    known = view._apidoc.setdefault("refusals", {}).setdefault(status, [])
    known.extend(code for code in codes if code not in known)


def note_security(view: Callable, security: list) -> None:
    view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
    view._apidoc.setdefault("manual_doc", {})["security"] = security


class BodyParser(FlaskParser):
    """webargs, reading what the API has always accepted: a body that is not a JSON object (no
    body, not JSON, not sent as JSON, a list) reads as `{}`, and a refusal is the schema's own
    error (its code and message), not webargs' document of problems."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "json": EXCLUDE}

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        return missing

    def pre_load(self, location_data, *, schema, req, location):
        if location == "json" and not isinstance(location_data, Mapping):
            return {}
        return location_data

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = next(iter(error.messages.values()), {})  # {location: {field: [problems]}}
        raise schema.refusal(messages if isinstance(messages, dict) else {})

    def load(self, schema, location: str = "json"):
        """The loaded body, or None where the schema refuses it."""
        try:
            return self.parse(schema, location=location)
        except DomainError:
            return None


class RelativePaths(FlaskPlugin):
    """Paths relative to the document's server (/api/v1), as the document has always had them."""

    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def path_helper(self, rule, operations, parameters, **kwargs):
        path = super().path_helper(rule, operations, parameters, **kwargs)
        return path.removeprefix(self.prefix) or "/"


class _Api(Api):
    """flask-smorest's Api for its document only: no error handlers (it would answer every
    HTTPException of the site, pages included, with its own JSON) and no pages (/api/v1 serves
    the document itself, as one of its routes)."""

    DEFAULT_ERROR_RESPONSE_NAME = None  # no catch-all "default": each error is listed
    ERROR_SCHEMA = schemas.Error

    def _register_error_handlers(self):
        pass

    def _register_doc_blueprint(self):
        pass

    def _register_etag_headers(self):  # neither ETags nor pages of results here
        pass

    def _register_pagination_header(self):
        pass


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = BodyParser()

    def __init__(self, *args, info: dict, tags: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.info, self.tags = info, tags
        self._prepare_doc_cbks.append(self._prepare_refusals_doc)

    def add_url_rule(self, rule, endpoint=None, view_func=None, *args, **kwargs):
        if "<" in rule and view_func is not None:  # an id out of the converter's range
            note_refusal(view_func, 404, "404")
        super().add_url_rule(rule, endpoint, view_func, *args, **kwargs)

    def arguments(self, schema, **kwargs):
        """As flask-smorest's, with the schema's own refusal documented instead of webargs'."""
        decorate = super().arguments(schema, **kwargs)
        instance = schema() if isinstance(schema, type) else schema

        def decorator(view):
            wrapped = decorate(view)
            wrapped._apidoc = deepcopy(wrapped._apidoc)
            wrapped._apidoc["arguments"].pop("responses", None)
            if instance.refused_as:
                note_refusal(wrapped, *instance.refused_as)
            return wrapped

        return decorator

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        for method, doc in self._docs[endpoint].items():
            if method != "parameters":
                text = doc["docstring"]
                if "description" in text:  # one paragraph, not the docstring's lines
                    text["description"] = " ".join(text["description"].split())
                manual = doc.setdefault("manual_doc", {})
                manual.setdefault("operationId", endpoint)
                manual.setdefault("security", [])  # public unless token_required says so

    @staticmethod
    def _prepare_refusals_doc(doc, doc_info, **kwargs):
        responses = doc.setdefault("responses", {})
        for status, codes in sorted(doc_info.get("refusals", {}).items()):
            detail = "; ".join(f"`{code}`: {CODES[code]}" for code in codes)
            responses[str(status)] = {
                "description": f"{STATUS_NAMES[status]}. {detail}",
                "content": {"application/json": {"schema": _error_with(codes)}},
            }
        return doc

    def register(self, app: Flask, options: dict) -> None:
        first = not any(bp is self for bp in app.blueprints.values())
        super().register(app, options)
        if first:
            app.extensions["certify.openapi"] = self._document(app)

    def _document(self, app: Flask) -> dict:
        prefix = self.url_prefix or ""
        api = _Api(
            app,
            spec_kwargs={
                "title": self.info["title"],
                "version": self.info["version"],
                "openapi_version": "3.1.0",
                "flask_plugin": RelativePaths(prefix),
                "info": {"description": self.info["description"]},
                "servers": [{"url": prefix}],
                "security": BEARER,
                "tags": self.tags,
            },
        )
        api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
        self.register_views_in_doc(api, app, api.spec, name=self.name, parameters=None)
        return api.spec.to_dict()


def _error_with(codes: list[str]) -> dict:
    """The Error body, its code one of these."""
    return {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {"properties": {"error": {"properties": {"code": {"enum": list(codes)}}}}},
        ]
    }
