"""The exam timer counts on the browser's monotonic clock, not the phone's wall clock.

A phone's clock can jump in the middle of an exam: the worker changes it, the network corrects
it, the phone wakes with a different time. The page once measured the time left with
Date.now(), so a jump forward made it believe the time was up and hand the paper in early,
with nothing saved afterwards to correct it; a jump backwards showed more time than there was.
"""

from __future__ import annotations

import pytest

from certify.exams import services
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db
from tests.e2e.conftest import zh

DURATION = 90 * 60  # seconds: the `exam` fixture's paper

# Replace the page's Date with one whose wall clock is `shift` ms off from now on, as when the
# phone's clock is changed; Date.parse and dates built from a number are untouched.
SHIFT_WALL_CLOCK = """(shift) => {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class ShiftedDate extends RealDate {
    constructor(...args) { if (args.length) { super(...args); } else { super(realNow() + shift); } }
    static now() { return realNow() + shift; }
  }
  window.Date = ShiftedDate;
  return Date.now() - realNow();
}"""


@pytest.fixture
def open_attempt(exam, worker):
    attempt = services.start_attempt(exam, worker)
    db.session.commit()
    return attempt


@pytest.fixture
def exam_phone(browser, live_url):
    """conftest's phone; afterwards nothing from the open exam page reaches the stopping server."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    page.route("**/api/**", lambda route: route.abort())
    page.goto("about:blank")
    context.close()


def seconds_left(page) -> int:
    """The timer's "剩余时间 1:29:58" (or "29:58") in seconds."""
    shown = page.locator("#timer").inner_text()
    assert shown.startswith(zh("Time left")), shown
    seconds = 0
    for part in shown[len(zh("Time left")) :].strip().split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


@pytest.mark.parametrize("hours", [5, -5], ids=["forward", "backward"])
def test_a_jump_of_the_phone_clock_changes_nothing_on_the_exam_page(
    live_url, exam_phone, log_in, open_attempt, worker, hours
):
    page = exam_phone
    log_in(page, worker.id_number, "my-own-pass-1")
    page.goto(f"{live_url}/exams/attempt/{open_attempt.id}")
    page.wait_for_selector("#exam-form[data-exam-enhanced]")
    page.wait_for_function("/\\d:\\d\\d:\\d\\d/.test(document.getElementById('timer').textContent)")
    before = seconds_left(page)
    assert DURATION - 120 < before <= DURATION
    navigations = []
    page.on("request", lambda r: r.is_navigation_request() and navigations.append(r.url))
    page.evaluate("window.__samePage = true")

    shift = hours * 3600 * 1000
    assert page.evaluate(SHIFT_WALL_CLOCK, shift) == pytest.approx(shift, abs=1000)
    page.wait_for_timeout(2500)  # the timer ticks every second: a hand-in would start by now

    assert navigations == []
    assert page.evaluate("window.__samePage") is True
    after = seconds_left(page)
    assert 0 < before - after <= 60, (before, after)  # a few seconds passed, not hours

    # An answer saved after the jump still corrects the clock from the server, not the phone.
    question = page.locator("fieldset.question:has(input[type=radio])").first
    qid = question.get_attribute("data-question")
    question.locator(".answer label").first.click()
    page.wait_for_selector(f'#q-{qid} .save-state[data-state="saved"]', timeout=10000)
    page.wait_for_timeout(1500)
    assert navigations == []
    assert 0 <= DURATION - seconds_left(page) <= 120
    assert page.get_attribute("#exam-form", "data-js-error") is None

    db.session.expire_all()
    attempt = db.session.get(Attempt, open_attempt.id)
    assert attempt.status is AttemptStatus.IN_PROGRESS
    assert int(qid) in services.answers_by_position(attempt)
