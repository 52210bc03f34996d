"""Every rule of the app's url_map, called as every kind of user and anonymously, against
the table of what each may do.

The ids in the addresses are real: the objects belong to one worker (the owner) of one class
(tests/security/conftest.py), so a column other than the owner's shows what a changed id gets
a classmate, a trainer of another class of the same trade, or an examiner of another trade.
API calls carry each actor's own bearer token.

Outcomes: ok (2xx, or a redirect to a page other than the login page; a few refusals are a
redirect with a flashed message, e.g. hr's empty POST /certificates/<number>/revoke), login
(a redirect to the login page, or the API's 401), 403, 404, 4xx (refused for what was sent:
400, 405, 409, 422), 429. A server error never matches. The job (/jobs/<id>) is the
reviewer's (hr) audit export.

Empty forms are posted, so most POSTs end in "the form has problems"; what matters is who
gets that far. Calls that delete things run last (access.LAST).

The exam is closed (the owner's result is final, and results wait for the exam to close), so
the classmate who never started gets 409 from the API's start: tests/training/test_exam_lock.py
covers /learn/ during an open exam.
"""

# ruff: noqa: E501

import pytest

from certify.core.security import PAGE_POLICY
from tests.security.access import OUTCOMES, call, classify, ordered, rule_keys
from tests.security.conftest import ACTORS

COLUMNS = tuple(ACTORS)  # anonymous owner classmate trainer trainer2 examiner examiner2 admin hr

# fmt: off
TABLE = {
    #                                                                                 anon  owner mate  train trai2 exam  exam2 admin hr
    "GET /":                                                                           "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /.well-known/jwks.json":                                                      "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /account/password":                                                           "login ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /account/password":                                                          "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /admin/users":                                                                "login 403   403   403   403   403   403   ok    403",
    "GET /admin/users/<int:user_id>/edit":                                             "login 403   403   403   403   403   403   ok    403",
    "POST /admin/users/<int:user_id>/edit":                                            "login 403   403   403   403   403   403   ok    403",
    "POST /admin/users/<int:user_id>/reset-password":                                  "login 403   403   403   403   403   403   ok    403",
    "POST /admin/users/<int:user_id>/unlock":                                          "login 403   403   403   403   403   403   ok    403",
    "GET /admin/users/new":                                                            "login 403   403   403   403   403   403   ok    403",
    "POST /admin/users/new":                                                           "login 403   403   403   403   403   403   ok    403",
    "PUT /api/v1/attempts/<int:attempt_id>/answers/<int:item_id>":                 "login 4xx   403   403   403   403   403   403   403",
    "POST /api/v1/attempts/<int:attempt_id>/events":                                   "login ok    403   403   403   403   403   403   403",
    "GET /api/v1/attempts/<int:attempt_id>/result":                                    "login ok    403   ok    403   ok    403   ok    403",
    "POST /api/v1/attempts/<int:attempt_id>/submit":                                   "login ok    403   403   403   403   403   403   403",
    "DELETE /api/v1/auth/token":                                                       "login ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /api/v1/auth/token":                                                         "login login login login login login login login login",
    "GET /api/v1/certificates/<number>/verify":                                        "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /api/v1/exams":                                                               "login ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /api/v1/exams/<int:session_id>/attempts":                                    "login ok    4xx   403   403   403   403   403   403",
    "GET /api/v1/openapi.json":                                                        "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /audit/":                                                                     "login 403   403   403   403   403   403   ok    ok",
    "GET /audit/export.<fmt>":                                                         "login 403   403   403   403   403   403   ok    ok",
    "POST /audit/verify":                                                              "login 403   403   403   403   403   403   ok    ok",
    "GET /banks/":                                                                     "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/":                                                              "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/blueprints/<int:blueprint_id>":                                 "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/blueprints/<int:blueprint_id>.json":                            "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/lint":                                                          "login 403   403   ok    ok    403   403   ok    403",
    "POST /banks/<code>/blueprints/<int:blueprint_id>/delete":                         "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/blueprints/<int:blueprint_id>/edit":                            "login 403   403   ok    ok    403   403   ok    403",
    "POST /banks/<code>/blueprints/<int:blueprint_id>/edit":                           "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/blueprints/new":                                                "login 403   403   ok    ok    403   403   ok    403",
    "POST /banks/<code>/blueprints/new":                                               "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/export.<fmt>":                                                  "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/import":                                                        "login 403   403   ok    ok    403   403   ok    403",
    "POST /banks/<code>/import":                                                       "login 403   403   ok    ok    403   403   ok    403",
    "POST /banks/<code>/import/confirm":                                               "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/<code>/questions/<int:question_id>":                                   "login 403   403   ok    ok    403   403   ok    403",
    "POST /banks/<code>/questions/<int:question_id>":                                  "login 403   403   ok    ok    403   403   ok    403",
    "POST /banks/<code>/questions/<int:question_id>/<any(retire, reactivate, exam_only, practice):action>": "login 403   403   ok    ok    403   403   ok    403",
    "GET /banks/template.xlsx":                                                        "login 403   403   ok    ok    403   403   ok    403",
    "POST /catalog/areas/<int:area_id>/delete":                                        "login 403   403   403   403   403   403   ok    403",
    "POST /catalog/areas/<int:area_id>/rename":                                        "login 403   403   403   403   403   403   ok    403",
    "GET /catalog/trades":                                                             "login 403   403   ok    ok    ok    ok    ok    ok",
    "GET /catalog/trades/<code>":                                                      "login 403   403   ok    ok    ok    ok    ok    ok",
    "POST /catalog/trades/<code>/areas":                                               "login 403   403   403   403   403   403   ok    403",
    "POST /catalog/trades/<code>/delete":                                              "login 403   403   403   403   403   403   ok    403",
    "GET /catalog/trades/<code>/edit":                                                 "login 403   403   403   403   403   403   ok    403",
    "POST /catalog/trades/<code>/edit":                                                "login 403   403   403   403   403   403   ok    403",
    "GET /catalog/trades/new":                                                         "login 403   403   403   403   403   403   ok    403",
    "POST /catalog/trades/new":                                                        "login 403   403   403   403   403   403   ok    403",
    "GET /certificates/":                                                              "login 403   403   403   403   403   403   ok    403",
    "GET /certificates/<number>":                                                      "login 403   403   403   403   403   403   ok    403",
    "GET /certificates/<number>/credential.json":                                      "login ok    404   403   403   403   403   ok    403",
    "GET /certificates/<number>/pdf":                                                  "login ok    404   403   403   403   403   ok    403",
    "POST /certificates/<number>/reissue":                                             "login 403   403   403   403   403   403   4xx   403",
    "POST /certificates/<number>/revoke":                                              "login 403   403   403   403   403   403   4xx   ok",
    "GET /certificates/<number>/status":                                               "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /certificates/issuer":                                                        "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /certificates/mine":                                                          "login ok    ok    403   403   403   403   403   403",
    "GET /certificates/sessions/<int:session_id>":                                     "login 403   403   403   403   403   403   ok    403",
    "GET /certificates/sessions/<int:session_id>/certificates.zip":                    "login 403   403   403   403   403   403   ok    403",
    "POST /certificates/sessions/<int:session_id>/issue":                              "login 403   403   403   403   403   403   ok    403",
    "GET /cohorts/":                                                                   "login 403   403   ok    ok    403   403   ok    403",
    "GET /cohorts/<int:cohort_id>":                                                    "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/advance":                                           "login 403   403   ok    403   403   403   ok    403",
    "GET /cohorts/<int:cohort_id>/dashboard":                                          "login 403   403   ok    403   403   403   ok    403",
    "GET /cohorts/<int:cohort_id>/dashboard.xlsx":                                     "login 403   403   ok    403   403   403   ok    403",
    "GET /cohorts/<int:cohort_id>/edit":                                               "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/edit":                                              "login 403   403   ok    403   403   403   ok    403",
    "GET /cohorts/<int:cohort_id>/exams/new":                                          "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/exams/new":                                         "login 403   403   ok    403   403   403   ok    403",
    "GET /cohorts/<int:cohort_id>/materials":                                          "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/materials":                                         "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/materials/<int:material_id>/delete":                "login 403   403   ok    403   403   403   ok    403",
    "GET /cohorts/<int:cohort_id>/roster":                                             "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/roster":                                            "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/roster/confirm":                                    "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/sessions":                                          "login 403   403   ok    403   403   403   ok    403",
    "POST /cohorts/<int:cohort_id>/sessions/<int:session_id>/delete":                  "login 403   403   ok    403   403   403   ok    403",
    "GET /cohorts/<int:cohort_id>/slips.pdf":                                          "login 403   403   ok    403   403   403   ok    403",
    "GET /cohorts/new":                                                                "login 403   403   ok    ok    403   403   ok    403",
    "POST /cohorts/new":                                                               "login 403   403   ok    ok    403   403   ok    403",
    "GET /cohorts/rules":                                                              "login 403   403   403   403   403   403   ok    403",
    "POST /cohorts/rules":                                                             "login 403   403   403   403   403   403   ok    403",
    "GET /endorsement/":                                                               "login 403   403   403   403   403   403   ok    ok",
    "GET /endorsement/batches/<int:batch_id>":                                         "login 403   403   403   403   403   403   ok    ok",
    "POST /endorsement/batches/<int:batch_id>/endorse":                                "login 403   403   403   403   403   403   403   4xx",
    "GET /endorsement/batches/<int:batch_id>/package.zip":                             "login 403   403   403   403   403   403   ok    ok",
    "GET /endorsement/batches/<int:batch_id>/pdf/<number>":                            "login 403   403   403   403   403   403   ok    ok",
    "POST /endorsement/batches/<int:batch_id>/reject/<number>":                        "login 403   403   403   403   403   403   403   4xx",
    "GET /endorsement/deadlines":                                                      "login 403   403   403   403   403   403   ok    403",
    "GET /endorsement/inbox":                                                          "login 403   403   403   403   403   403   403   ok",
    "GET /endorsement/submit":                                                         "login 403   403   403   403   403   403   ok    403",
    "POST /endorsement/submit":                                                        "login 403   403   403   403   403   403   4xx   403",
    "GET /exams/":                                                                     "login ok    ok    403   403   403   403   403   403",
    "POST /exams/<int:session_id>/start":                                              "login ok    ok    403   403   403   403   403   403",
    "GET /exams/attempt/<int:attempt_id>":                                             "login ok    403   403   403   403   403   403   403",
    "POST /exams/attempt/<int:attempt_id>":                                            "login ok    403   403   403   403   403   403   403",
    "GET /exams/attempt/<int:attempt_id>/done":                                        "login ok    403   403   403   403   403   403   403",
    "POST /exams/results/<int:result_id>/objection":                                   "login 403   403   403   403   403   403   ok    403",
    "GET /exams/sessions/<int:session_id>":                                            "login 403   403   ok    403   ok    403   ok    403",
    "POST /exams/sessions/<int:session_id>/access-code-locks/<int:user_id>/lift":      "login 403   403   ok    403   ok    403   ok    403",
    "POST /exams/sessions/<int:session_id>/close":                                     "login 403   403   ok    403   403   403   ok    403",
    "POST /exams/sessions/<int:session_id>/finalize":                                  "login 403   403   403   403   403   403   ok    403",
    "POST /exams/sessions/<int:session_id>/override":                                  "login 403   403   ok    403   403   403   ok    403",
    "GET /exams/sessions/<int:session_id>/practical":                                  "login 403   403   403   403   ok    403   ok    403",
    "POST /exams/sessions/<int:session_id>/practical":                                 "login 403   403   403   403   ok    403   ok    403",
    "GET /exams/sessions/<int:session_id>/report":                                     "login 403   403   ok    403   403   403   ok    403",
    "GET /exams/sessions/<int:session_id>/results":                                    "login 403   403   ok    403   ok    403   ok    403",
    "POST /exams/sessions/<int:session_id>/results":                                   "login 403   403   ok    403   ok    403   ok    403",
    "GET /exams/sessions/<int:session_id>/results.xlsx":                               "login 403   403   ok    403   403   403   ok    403",
    "GET /healthz":                                                                    "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /jobs/":                                                                      "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /jobs/<int:job_id>":                                                          "login 404   404   404   404   404   404   ok    ok",
    "GET /jobs/<int:job_id>/download":                                                 "login 404   404   404   404   404   404   ok    ok",
    "POST /jobs/<int:job_id>/retry":                                                   "login 404   404   404   404   404   404   ok    ok",
    "GET /jobs/<int:job_id>/view":                                                     "login 404   404   404   404   404   404   ok    ok",
    "POST /jobs/audit-export":                                                         "login 403   403   403   403   403   403   ok    ok",
    "POST /language/<lang>":                                                           "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /learn/":                                                                     "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /learn/<code>/materials":                                                     "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /learn/<code>/mock":                                                          "login ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /learn/<code>/mock/<int:blueprint_id>/start":                                "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /learn/<code>/practice":                                                      "login ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /learn/<code>/practice/<int:question_id>":                                   "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /learn/<code>/wrong-book":                                                    "login ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /learn/<code>/wrong-book/<int:question_id>/mastered":                        "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /learn/materials/<int:material_id>":                                          "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /learn/mock/<int:attempt_id>":                                                "login ok    404   404   404   404   404   404   404",
    "POST /learn/mock/<int:attempt_id>":                                               "login ok    404   404   404   404   404   404   404",
    "GET /learn/mock/<int:attempt_id>/result":                                         "login ok    404   404   404   404   404   404   404",
    "GET /login":                                                                      "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /login":                                                                     "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /logout":                                                                    "login login login login login login login login login",
    "GET /notifications/":                                                             "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /notifications/<int:notification_id>/open":                                   "login ok    404   404   404   404   404   404   404",
    "POST /notifications/read":                                                        "login ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /publicity/<token>":                                                          "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /static/<path:filename>":                                                     "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /register":                                                                   "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /register/<int:announcement_id>":                                             "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /register/<int:announcement_id>":                                            "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /register/status":                                                            "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /register/status/<reference>":                                                "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /register/status/<reference>/correct":                                        "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /register/status/<reference>/correct":                                       "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /register/status/<reference>/photo":                                          "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET /registration/":                                                              "login 403   403   403   403   403   403   ok    403",
    "POST /registration/":                                                             "login 403   403   403   403   403   403   ok    403",
    "GET /registration/<int:announcement_id>":                                         "login 403   403   403   403   403   403   ok    403",
    "GET /registration/<int:announcement_id>/approved.xlsx":                           "login 403   403   403   403   403   403   ok    403",
    "POST /registration/<int:announcement_id>/<any(open, close):action>":              "login 403   403   403   403   403   403   ok    403",
    "GET /registration/applications/<int:application_id>/photo":                       "login 403   403   403   403   403   403   ok    403",
    "POST /registration/applications/<int:application_id>/approve":                    "login 403   403   403   403   403   403   ok    403",
    "POST /registration/applications/<int:application_id>/return":                     "login 403   403   403   403   403   403   ok    403",
    "GET /v/<number>":                                                                 "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /v/<number>/pdf":                                                            "4xx   4xx   4xx   4xx   4xx   4xx   4xx   4xx   4xx",
    "GET /verify":                                                                     "ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST /verify":                                                                    "ok    ok    ok    ok    ok    ok    ok    ok    ok",
}
# fmt: on

ADD_IT = (
    "Add each to TABLE in tests/security/test_access_table.py with the outcome expected for "
    "every column ({}), and seed a real object for any new <id> in tests/security/conftest.py."
)


def test_every_route_is_in_the_table(app):
    keys = {key for key, _method, _endpoint in rule_keys(app)}
    missing = sorted(keys - TABLE.keys())
    assert not missing, (
        "Routes missing from the access table: "
        + ", ".join(missing)
        + ". "
        + (ADD_IT.format(" ".join(COLUMNS)))
    )
    stale = sorted(TABLE.keys() - keys)
    assert not stale, f"The access table lists routes the app no longer has: {stale}"
    for key, row in TABLE.items():
        outcomes = row.split()
        assert len(outcomes) == len(COLUMNS), f"{key}: one outcome per column {COLUMNS}"
        assert set(outcomes) <= set(OUTCOMES), f"{key}: outcomes are {OUTCOMES}"


@pytest.mark.parametrize("actor", COLUMNS)
def test_every_route_answers_as_the_table_says(app, client, world, login_as, bearer, actor):
    login_as(actor)
    token = bearer(actor)
    column = COLUMNS.index(actor)
    wrong = []
    for key, _method, endpoint in ordered(app):
        if key not in TABLE:
            continue  # test_every_route_is_in_the_table names it
        expected = TABLE[key].split()[column]
        response = call(client, world, key, endpoint, token)
        try:
            got = classify(response)
        except AssertionError as exc:
            got = str(exc)[:200]
        if got != expected:
            wrong.append(f"{key}: expected {expected}, got {got} ({response.status_code})")
        if (
            response.mimetype == "text/html"
            and response.headers.get("Content-Security-Policy") != PAGE_POLICY
        ):
            wrong.append(f"{key}: a page without the Content-Security-Policy")
        if response.headers.get("X-Content-Type-Options") != "nosniff":
            wrong.append(f"{key}: no X-Content-Type-Options")
    assert not wrong, f"As {actor}:\n" + "\n".join(wrong)
