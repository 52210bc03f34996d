"""The OpenAPI 3.1 description of /api/v1, written by hand next to the routes it describes."""

_ERROR = {"$ref": "#/components/schemas/Error"}


def _errors(*codes: int) -> dict:
    text = {
        401: "No or expired token",
        403: "Not yours, or the first password must be changed (password_change_required)",
        404: "Not found",
        409: "Closed or late",
        423: "Locked: too many wrong access codes (access_code_locked)",
        422: "Invalid body",
        429: "Too many tries",
        503: "Busy, try again",
    }
    return {
        str(c): {"description": text[c], "content": {"application/json": {"schema": _ERROR}}}
        for c in codes
    }


OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Certify API",
        "version": "1.0.0",
        "description": "Timed exams for skills certification. Times are ISO 8601 in UTC.",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "Question": {
                "type": "object",
                "required": ["id", "type", "stem", "options"],
                "properties": {
                    "id": {
                        "type": "integer",
                        "description": "The question's number on this paper, not a bank id",
                    },
                    "position": {"type": "integer"},
                    "type": {"enum": ["single", "multiple", "true_false"]},
                    "stem": {"type": "string"},
                    "options": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"id": {"type": "string"}, "text": {"type": "string"}},
                        },
                    },
                },
            },
            "Verification": {
                "type": "object",
                "required": [
                    "verdict",
                    "endorsed",
                    "endorsed_by",
                    "endorsed_on",
                    "holder",
                    "trade",
                    "level",
                    "issued_on",
                    "number",
                ],
                "properties": {
                    "verdict": {"enum": ["valid", "revoked", "rejected", "invalid", "not_found"]},
                    "endorsed": {"type": "boolean"},
                    "endorsed_by": {"type": ["string", "null"]},
                    "endorsed_on": {"type": ["string", "null"], "format": "date"},
                    "holder": {"type": ["string", "null"], "description": "Masked: 王*明"},
                    "trade": {"type": ["string", "null"]},
                    "level": {"type": ["string", "null"]},
                    "issued_on": {"type": ["string", "null"], "format": "date"},
                    "number": {"type": "string"},
                    "signature_checked": {
                        "type": "boolean",
                        "description": "False: the answer comes from the register alone",
                    },
                    "id_type": {"type": ["string", "null"]},
                    "id_number": {
                        "type": ["string", "null"],
                        "description": "Masked: first 6 and last 4 characters",
                    },
                    "certificate_type": {"enum": ["level", "special", None]},
                    "issuer": {"type": ["string", "null"]},
                    "revoked_on": {"type": ["string", "null"], "format": "date"},
                    "revoked_reason": {
                        "type": ["string", "null"],
                        "description": "The public reason, from a fixed list (never free text)",
                    },
                    "revoked_reason_code": {
                        "enum": [
                            "issued_in_error",
                            "corrected",
                            "improperly_obtained",
                            "other",
                            None,
                        ]
                    },
                    "rejected_reason": {"type": ["string", "null"]},
                    "superseded_by": {
                        "type": ["string", "null"],
                        "description": "The number of the certificate that replaced this one",
                    },
                },
            },
            "Paper": {
                "type": "object",
                "required": ["attempt_id", "status", "deadline", "questions", "answers"],
                "properties": {
                    "attempt_id": {"type": "integer"},
                    "status": {"type": "string"},
                    "deadline": {"type": "string", "format": "date-time"},
                    "questions": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Question"},
                    },
                    "answers": {
                        "type": "object",
                        "description": "Saved choices by question id (number on the paper)",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/auth/token": {
            "post": {
                "security": [],
                "summary": "Get a token (workers may use their ID number)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["username", "password"],
                                "properties": {
                                    "username": {"type": "string"},
                                    "password": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Token",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "token": {"type": "string"},
                                        "expires_at": {"type": "string", "format": "date-time"},
                                    },
                                }
                            }
                        },
                    },
                    **_errors(401, 403, 429),
                },
            },
            "delete": {
                "summary": "Log out: this token stops working at once",
                "responses": {"204": {"description": "Revoked"}, **_errors(401)},
            },
        },
        "/exams": {
            "get": {
                "summary": "Sessions open to me",
                "responses": {
                    "200": {
                        "description": "Sessions",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"type": "object"}}
                            }
                        },
                    },
                    **_errors(401),
                },
            }
        },
        "/exams/{session_id}/attempts": {
            "post": {
                "summary": "Start or resume my attempt",
                "parameters": [
                    {
                        "name": "session_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"access_code": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "The paper, without answer keys",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Paper"}}
                        },
                    },
                    **_errors(401, 403, 404, 409, 422, 503),
                },
            }
        },
        "/attempts/{attempt_id}/answers/{item_id}": {
            "put": {
                "summary": "Save one answer (before the deadline)",
                "parameters": [
                    {
                        "name": "attempt_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "item_id",
                        "in": "path",
                        "required": True,
                        "description": "The question's id in the paper (its number on it)",
                        "schema": {"type": "integer"},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["answer"],
                                "properties": {
                                    "answer": {"type": "array", "items": {"type": "string"}}
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Saved",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "saved_at": {"type": "string", "format": "date-time"}
                                    },
                                }
                            }
                        },
                    },
                    **_errors(401, 403, 404, 409, 422, 503),
                },
            }
        },
        "/attempts/{attempt_id}/submit": {
            "post": {
                "summary": "Hand in (idempotent)",
                "parameters": [
                    {
                        "name": "attempt_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "Handed in",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"status": {"type": "string"}},
                                }
                            }
                        },
                    },
                    **_errors(401, 403, 404, 503),
                },
            }
        },
        "/attempts/{attempt_id}/events": {
            "post": {
                "summary": "Log leaving or returning to the exam page",
                "parameters": [
                    {
                        "name": "attempt_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "kind": {
                                        "enum": ["hidden", "visible", "blur", "focus", "copy"]
                                    },
                                    "at": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Logged",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "departures": {"type": "integer"},
                                        "auto_submitted": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    **_errors(401, 403, 404, 422, 503),
                },
            }
        },
        "/attempts/{attempt_id}/result": {
            "get": {
                "summary": "Score and breakdown (workers: after publication)",
                "parameters": [
                    {
                        "name": "attempt_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "Result",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "score": {"type": "number"},
                                        "max_score": {"type": "number"},
                                        "passed": {"type": "boolean"},
                                        "by_area": {"type": "array", "items": {"type": "object"}},
                                    },
                                }
                            }
                        },
                    },
                    **_errors(401, 403, 404, 409),
                },
            }
        },
        "/certificates/{number}/verify": {
            "get": {
                "security": [],
                "summary": "Verify a certificate (the QR code's number and signature)",
                "description": (
                    "Public, no token. With a valid `sig` it is not rate limited; without one, "
                    "or with a bad one, it shares the per-client lookup limit "
                    "(VERIFY_LOOKUP_LIMIT). `not_found` and `invalid` are verdicts, answered "
                    "with 200 and nulls. Names and ID numbers are masked."
                ),
                "parameters": [
                    {
                        "name": "number",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 32},
                    },
                    {
                        "name": "sig",
                        "in": "query",
                        "required": False,
                        "description": "`<key id>.<Ed25519 signature, base64url>` from the QR link",
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The verdict",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Verification"}
                            }
                        },
                    },
                    **_errors(429),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "security": [],
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI document"}},
            }
        },
    },
}
