"""What /api/v1 reads and answers, declared once: the views load bodies and dump answers with
these schemas, and /api/v1/openapi.json is generated from them (certify/api/spec.py).

Bodies are read as the API always read them: a body that is not a JSON object reads as `{}`,
keys not declared are ignored, and the text fields take any JSON value as its text (`str()`),
so a login without a name is refused by the login (401), not by the schema. Only the answer's
list and the event's kind are refused here, each with the code the API has always used.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext as _
from marshmallow import EXCLUDE, Schema, fields, missing, validate

from certify.core.errors import DomainError, Problem, ValidationFailed
from certify.exams.models import AttemptStatus
from certify.exams.services import EVENT_KINDS

# --- fields ---------------------------------------------------------------------------------


class Text(fields.String):
    """A string read leniently: missing or null reads as `empty`, any other JSON value as its
    text. Validators (e.g. OneOf) still apply to the text."""

    def __init__(self, *, empty: str | None = "", **kwargs):
        self.empty = empty
        super().__init__(**kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is missing or value is None:
            text = self.empty
        else:
            text = value if isinstance(value, str) else str(value)
        if text is not None:
            self._validate(text)
        return text


class Moment(Text):
    """An ISO 8601 time, read as UTC; anything else (or a time UTC cannot hold) reads as None."""

    def deserialize(self, value, attr=None, data=None, **kwargs):
        text = super().deserialize(value, attr, data)
        try:
            return datetime.fromisoformat(text).astimezone(UTC) if text else None
        except (ValueError, OverflowError):  # not a time, or year 1 / 9999 beyond UTC
            return None


# --- request bodies -------------------------------------------------------------------------


class InvalidBody(DomainError):
    code = "invalid_body"
    status = 422


class Body(Schema):
    """A request body. `refused_as` (status, code) documents what `refusal` raises."""

    refused_as: tuple[int, str] | None = None

    class Meta:
        unknown = EXCLUDE

    def refusal(self, messages: dict) -> DomainError:
        problems = [
            Problem(str(field), "; ".join(map(str, texts if isinstance(texts, list) else [texts])))
            for field, texts in messages.items()
        ]
        return ValidationFailed(problems)


class TokenBody(Body):
    username = Text(required=True, metadata={"description": "User name or ID number"})
    password = Text(required=True)


class StartBody(Body):
    access_code = Text(
        empty=None,
        metadata={"description": "The session's 入场码, when it has one (needs_access_code)"},
    )


class AnswerBody(Body):
    refused_as = (422, "invalid_answer")

    answer = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The chosen options' ids; [] clears the answer"},
    )

    def refusal(self, messages: dict) -> DomainError:
        return InvalidBody(_('Send {"answer": [option ids]}.'), code="invalid_answer")


class EventBody(Body):
    refused_as = (422, "validation_failed")

    kind = Text(required=True, validate=validate.OneOf(sorted(EVENT_KINDS)))
    at = Moment(
        empty=None,
        metadata={
            "format": "date-time",
            "description": "When it happened, by the phone's clock (events sent late after an "
            "outage merge by it); clamped to the attempt; anything else reads as now",
        },
    )

    def refusal(self, messages: dict) -> DomainError:
        return ValidationFailed([Problem("kind", _("Unknown event."))])


class VerifyQuery(Body):
    sig = fields.String(
        metadata={"description": "`<key id>.<Ed25519 signature, base64url>` from the QR link"},
    )


# --- answers --------------------------------------------------------------------------------

STATUSES = [str(status) for status in AttemptStatus]


class ErrorDetail(Schema):
    code = fields.String(required=True, metadata={"description": "Stable, for programs"})
    message = fields.String(required=True, metadata={"description": "For people, in Chinese"})


class Error(Schema):
    error = fields.Nested(ErrorDetail, required=True)


class Token(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


class Session(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    opens_at = fields.DateTime(required=True, metadata={"description": "Mine, extra time applied"})
    closes_at = fields.DateTime(required=True)
    duration_minutes = fields.Integer(required=True)
    needs_access_code = fields.Boolean(required=True)
    attempt_id = fields.Integer(required=True, allow_none=True)
    attempt_status = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(STATUSES),
        metadata={"description": "`expired`: the time is up, the paper is being graded"},
    )


class Option(Schema):
    id = fields.String(required=True)
    text = fields.String(required=True)


class Question(Schema):
    id = fields.Integer(
        required=True,
        metadata={"description": "The question's number on this paper, not a bank id"},
    )
    position = fields.Integer(required=True)
    type = fields.String(
        required=True, validate=validate.OneOf(["single", "multiple", "true_false"])
    )
    stem = fields.String(required=True)
    options = fields.List(fields.Nested(Option), required=True)


class Paper(Schema):
    attempt_id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    deadline = fields.DateTime(required=True)
    questions = fields.List(fields.Nested(Question), required=True)
    answers = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"description": "Saved choices by question id (number on the paper)"},
    )


class Saved(Schema):
    saved_at = fields.DateTime(required=True)


class HandedIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["submitted", "in_progress"]))


class Logged(Schema):
    departures = fields.Integer(required=True)
    auto_submitted = fields.Boolean(required=True)
    saved_at = fields.DateTime(
        required=True,
        metadata={
            "description": "The server's clock: a phone waking from sleep corrects its timer"
        },
    )


class AreaScore(Schema):
    area = fields.String(required=True)
    score = fields.Float(required=True)
    max = fields.Float(required=True)
    pct = fields.Integer(required=True)


class Result(Schema):
    score = fields.Float(required=True, allow_none=True)
    max_score = fields.Float(required=True)
    passed = fields.Boolean(required=True)
    by_area = fields.List(fields.Nested(AreaScore), required=True)


class Verification(Schema):
    """The verdict: `Verification.to_json()` (certify/verification/services.py), answered as is;
    keys may be added to it, never removed (so the document allows other keys)."""

    class Meta:
        unknown = EXCLUDE

    verdict = fields.String(
        required=True,
        validate=validate.OneOf(["valid", "revoked", "rejected", "invalid", "not_found"]),
    )
    endorsed = fields.Boolean(required=True)
    endorsed_by = fields.String(required=True, allow_none=True)
    endorsed_on = fields.Date(required=True, allow_none=True)
    holder = fields.String(
        required=True, allow_none=True, metadata={"description": "Masked: 王*明"}
    )
    trade = fields.String(required=True, allow_none=True)
    level = fields.String(required=True, allow_none=True)
    issued_on = fields.Date(required=True, allow_none=True)
    number = fields.String(required=True)
    signature_checked = fields.Boolean(
        metadata={"description": "False: the answer comes from the register alone"}
    )
    id_type = fields.String(allow_none=True)
    id_number = fields.String(
        allow_none=True, metadata={"description": "Masked: first 6 and last 4 characters"}
    )
    certificate_type = fields.String(allow_none=True, validate=validate.OneOf(["level", "special"]))
    issuer = fields.String(allow_none=True)
    revoked_on = fields.Date(allow_none=True)
    revoked_reason = fields.String(
        allow_none=True,
        metadata={"description": "The public reason, from a fixed list (never free text)"},
    )
    revoked_reason_code = fields.String(
        allow_none=True,
        validate=validate.OneOf(["issued_in_error", "corrected", "improperly_obtained", "other"]),
    )
    rejected_reason = fields.String(allow_none=True)
    superseded_by = fields.String(
        allow_none=True,
        metadata={"description": "The number of the certificate that replaced this one"},
    )
