"""Accessibility on a cheap phone: axe-core finds nothing serious on the pages a worker uses, the
exam works by keyboard alone, text can be enlarged without breaking the page, and questions
can be read aloud in Mandarin.

axe-core comes from the npm registry, pinned in tests/e2e/package-lock.json and installed by
`make test` (npm ci --prefix tests/e2e); it is injected from node_modules, never from a CDN.
"""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.support import Translations

from certify.accounts.models import Role
from certify.certificates.services import issue_certificate, verify_url
from certify.certificates.signing import init_keys
from certify.core import clock
from certify.exams import services
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db
from certify.results import services as results
from tests.factories import make_user

AXE_JS = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "my-own-pass-1"
TRADE = "warehouse-keeper"
CATALOGUE = Translations.load(str(Path(__file__).parents[2] / "certify" / "translations"), ["zh"])


def zh(msgid: str) -> str:
    """What a Chinese page shows for a message id (the English id until it is translated)."""
    return CATALOGUE.gettext(msgid)


# --- helpers -------------------------------------------------------------------------------


def log_in(page, live_url, worker):
    page.goto(f"{live_url}/login")
    page.fill("#login", worker.id_number)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(lambda url: "/login" not in url)


def serious_violations(page) -> list[dict]:
    """Run axe-core on the page; return the serious and critical violations, with their nodes."""
    if not AXE_JS.exists():
        pytest.skip("axe-core is not installed: run `npm ci --prefix tests/e2e` (make test does)")
    page.add_script_tag(path=str(AXE_JS))
    found = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ["violations"]});
          return r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
          }));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def assert_accessible(page, name: str) -> None:
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.lang") == "zh-CN", name
    problems = serious_violations(page)
    assert not problems, f"{name}: " + json.dumps(problems, ensure_ascii=False, indent=1)


# --- fixtures --------------------------------------------------------------------------------


def _phone(browser, **options):
    """A 360×740 phone in Chinese, as conftest's `phone`. Afterwards nothing from an open exam
    page reaches the stopping server."""
    context = browser.new_context(
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        **options,
    )
    page = context.new_page()
    yield page
    page.wait_for_load_state("networkidle")
    page.route("**/api/**", lambda route: route.abort())
    page.goto("about:blank")
    context.close()


@pytest.fixture
def worker_page(browser, live_url):
    """The phone under the pages' real Content-Security-Policy."""
    yield from _phone(browser)


@pytest.fixture
def axe_page(browser, live_url):
    """The phone, bypassing the Content-Security-Policy (script-src 'self') only so that
    axe-core can be injected as a script tag."""
    yield from _phone(browser, bypass_csp=True)


@pytest.fixture
def open_attempt(exam, worker):
    attempt = services.start_attempt(exam, worker)
    db.session.commit()
    return attempt


@pytest.fixture
def certificate(exam, worker, trade, frozen_clock):
    """The worker passed, the results are final and the certificate is issued."""
    attempt = services.start_attempt(exam, worker)
    for item in attempt.items:
        services.save_answer(attempt, item.position, list(item.version.correct))
    services.submit_attempt(attempt)
    examiner = make_user(Role.EXAMINER, username="ex1", trades=(trade.code,))
    results.record_practical_score(exam, worker, examiner, 82)
    services.close_session(exam)  # 收卷: results wait for the exam
    results.publish_results(exam, 0)
    frozen_clock.advance(minutes=1)
    results.finalize_results(exam)
    db.session.commit()
    (result,) = results.session_results(exam)
    frozen_clock.advance(hours=1)
    init_keys()
    certificate = issue_certificate(result)
    db.session.commit()
    return certificate


# --- axe-core ----------------------------------------------------------------------------------


def test_login_and_exam_pages_have_no_serious_problems(live_url, axe_page, open_attempt, worker):
    page = axe_page
    page.goto(f"{live_url}/login")
    assert_accessible(page, "login")
    log_in(page, live_url, worker)
    page.goto(f"{live_url}/exams/attempt/{open_attempt.id}")
    page.wait_for_selector("#exam-form[data-exam-enhanced]")
    assert_accessible(page, "exam")
    page.goto(f"{live_url}/learn/{TRADE}/practice")  # closed while the exam is open
    assert_accessible(page, "practice closed during the exam")
    services.submit_attempt(open_attempt)  # handed in: practice opens again
    db.session.commit()
    page.goto(f"{live_url}/learn/{TRADE}/practice")
    page.locator(".answer label").first.click()
    page.locator("form button.primary").click()
    page.wait_for_selector(".feedback")
    assert_accessible(page, "practice feedback")


def test_result_certificate_and_check_pages_have_no_serious_problems(
    live_url, axe_page, certificate, worker
):
    page = axe_page
    log_in(page, live_url, worker)
    page.goto(f"{live_url}/exams/")
    page.click("text=查看详情")
    page.wait_for_selector("[data-clear-exam]")
    assert_accessible(page, "result")
    page.goto(f"{live_url}/certificates/mine")
    assert_accessible(page, "my certificates")
    target = urlsplit(verify_url(certificate))
    page.goto(f"{live_url}{target.path}?{target.query}")
    assert_accessible(page, "public check")


# --- the whole exam by keyboard ------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  const fs = el && el.closest ? el.closest("fieldset.question") : null;
  return {
    tag: el ? el.tagName : "", id: el ? el.id : "", type: el && el.type || "",
    value: el && el.value || "", checked: Boolean(el && el.checked),
    cls: el && typeof el.className === "string" ? el.className : "",
    text: el ? el.textContent.trim() : "",
    question: fs ? fs.getAttribute("data-question") : null,
    nav: Boolean(el && el.closest && el.closest("#navigator")),
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUSED)


def press_until(page, key: str, wanted, limit: int = 40) -> dict:
    """Press a key until the focused element is the wanted one (the mouse is never used)."""
    for _ in range(limit):
        page.keyboard.press(key)
        state = focused(page)
        if wanted(state):
            return state
    raise AssertionError(f"{key} × {limit} never reached it; focus is on {focused(page)}")


def is_answer(question):
    return lambda f: (
        f["question"] == question
        and f["type"] in ("radio", "checkbox")
        and ("flag" not in f["cls"])
    )


def test_the_whole_exam_works_by_keyboard_alone(live_url, worker_page, exam, worker):
    page = worker_page
    errors = []  # scripts that fail, or that the Content-Security-Policy blocks
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: "Content Security Policy" in m.text and errors.append(m.text))
    # log in
    page.goto(f"{live_url}/login")
    press_until(page, "Tab", lambda f: f["id"] == "login")
    page.keyboard.type(worker.id_number)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    # start the exam
    page.goto(f"{live_url}/exams/")
    press_until(page, "Tab", lambda f: f["tag"] == "BUTTON" and f["text"] == zh("Start the exam"))
    page.keyboard.press("Enter")
    page.wait_for_selector("#exam-form[data-exam-enhanced]")
    attempt_id = int(page.get_attribute("#exam-form", "data-attempt"))
    ids = page.eval_on_selector_all("fieldset.question", "all => all.map(f => f.dataset.question)")

    # The question numbers are one Tab stop; an arrow moves, Enter jumps into the question.
    press_until(page, "Tab", lambda f: f["nav"])
    assert focused(page)["text"] == "1"
    page.keyboard.press("ArrowRight")
    assert focused(page)["text"] == "2"
    page.keyboard.press("Enter")
    first = focused(page)
    assert is_answer(ids[1])(first) and not first["checked"], first

    # Space chooses; the arrow key moves to the next option and chooses it.
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    page.keyboard.press("ArrowDown")
    second = focused(page)
    assert is_answer(ids[1])(second) and second["checked"] and second["value"] != first["value"]
    page.keyboard.press("Enter")  # Enter on an answer chooses; it never reloads the page
    page.wait_for_selector(f'#q-{ids[1]} .save-state[data-state="saved"]', timeout=10000)
    assert focused(page)["value"] == second["value"]

    # Flag it to check again: the number says so, not by colour only.
    flag = press_until(page, "Tab", lambda f: "flag" in f["cls"], limit=3)
    assert flag["question"] == ids[1]
    page.keyboard.press("Space")
    link = page.locator(f'#navigator a[data-question="{ids[1]}"]')
    assert "flagged" in link.get_attribute("class")
    assert zh("marked to check again") in link.get_attribute("aria-label")

    # Tab goes on to the next question.
    press_until(page, "Tab", is_answer(ids[2]), limit=3)
    page.keyboard.press("Space")

    # Back to the numbers, End, Enter: the last question; Space ticks its first box.
    press_until(page, "Shift+Tab", lambda f: f["nav"], limit=20)
    page.keyboard.press("End")
    assert focused(page)["text"] == str(len(ids))
    page.keyboard.press("Enter")
    last = focused(page)
    assert is_answer(ids[-1])(last)
    page.keyboard.press("Space")
    page.wait_for_selector(f'#q-{ids[-1]} .save-state[data-state="saved"]', timeout=10000)

    # Hand in, confirming with the keyboard too.
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    press_until(page, "Tab", lambda f: f["id"] == "submit-button", limit=20)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/exams/attempt/{attempt_id}/done", timeout=20000)
    assert len(dialogs) == 1 and str(len(ids) - 3) in dialogs[0]  # "87 questions are not answered"

    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.GRADED
    saved = services.answers_by_position(attempt)  # keyed as the page is
    assert saved[int(ids[1])] == [second["value"]]
    assert int(ids[2]) in saved and int(ids[-1]) in saved
    assert len(saved) == 3
    assert not errors


def test_arrow_keys_never_navigate_the_exam_page(live_url, worker_page, open_attempt, worker):
    """Choosing by arrow keys saves each choice and nothing else: no form post, no reload.

    The page once corrected its clock from the HTTP Date header, which the web server (or any
    proxy) writes from its own clock. Where that clock disagreed with the app's by more than
    the time left (here: a day ahead, as the real date is ahead of the tests' frozen clock),
    the first saved answer made the page hand the paper in: a navigation in the middle of the
    arrow keys. The CPU runs 4× slower, as on a loaded machine or a cheap phone.
    """
    page = worker_page
    log_in(page, live_url, worker)
    day_ahead = format_datetime(clock.now() + timedelta(days=1), usegmt=True)

    def date_a_day_ahead(route):
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "date": day_ahead})

    page.route("**/api/v1/attempts/*/answers/*", date_a_day_ahead)
    page.goto(f"{live_url}/exams/attempt/{open_attempt.id}")
    page.wait_for_selector("#exam-form[data-exam-enhanced]")
    page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
    navigations = []
    page.on("request", lambda r: r.is_navigation_request() and navigations.append(r.url))
    page.evaluate("window.__samePage = true")

    question = page.locator("fieldset.question:has(input[type=radio])").first
    qid = question.get_attribute("data-question")
    question.locator(".answer input").first.focus()
    page.keyboard.press("Space")
    for key in ("ArrowDown", "ArrowDown", "ArrowUp", "ArrowRight", "ArrowLeft", "ArrowDown"):
        page.keyboard.press(key)
        assert focused(page)["question"] == qid
    chosen = focused(page)["value"]
    page.wait_for_selector(f'#q-{qid} .save-state[data-state="saved"]', timeout=10000)
    page.wait_for_timeout(1500)  # a hand-in would follow the saves within this

    assert navigations == []
    assert page.evaluate("window.__samePage") is True
    assert page.locator("#timer").inner_text().startswith(zh("Time left"))
    db.session.expire_all()
    attempt = db.session.get(Attempt, open_attempt.id)
    assert attempt.status is AttemptStatus.IN_PROGRESS
    assert [chosen] in services.saved_answers(attempt).values()


# --- larger text -----------------------------------------------------------------------------


def root_font_size(page) -> str:
    return page.evaluate("getComputedStyle(document.documentElement).fontSize")


def test_larger_text_is_kept_and_the_exam_still_fits_a_small_phone(
    live_url, axe_page, open_attempt, worker
):
    page = axe_page
    log_in(page, live_url, worker)
    exam_url = f"{live_url}/exams/attempt/{open_attempt.id}"
    page.goto(exam_url)
    assert root_font_size(page) == "17px"
    assert page.get_attribute('[data-text-size="0"]', "aria-pressed") == "true"

    page.click('[data-text-size="2"]')
    assert root_font_size(page) == "24px"
    assert page.get_attribute('[data-text-size="2"]', "aria-pressed") == "true"
    assert page.evaluate("localStorage.getItem('certify.textSize')") == "2"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("certify_text_size") == "2"

    # The server renders the size itself: nothing jumps on the next page.
    response = page.reload()
    assert 'class="text-2"' in response.text()
    page.wait_for_selector("#exam-form[data-exam-enhanced]")
    assert root_font_size(page) == "24px"
    pages = (exam_url, f"{live_url}/", f"{live_url}/exams/", f"{live_url}/learn/{TRADE}/practice")
    for url in pages:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
    page.goto(exam_url)
    assert_accessible(page, "exam, largest text")

    # A lost cookie comes back from localStorage.
    page.context.clear_cookies(name="certify_text_size")
    page.goto(f"{live_url}/exams/")
    assert root_font_size(page) == "24px"
    assert {c["name"]: c["value"] for c in page.context.cookies()}["certify_text_size"] == "2"

    page.click('[data-text-size="0"]')
    assert root_font_size(page) == "17px"
    assert page.evaluate("localStorage.getItem('certify.textSize')") == "0"


# --- read aloud ------------------------------------------------------------------------------

SPEECH_STUB = """
window.__spoken = [];
window.__cancels = 0;
window.SpeechSynthesisUtterance = function (text) {
  this.text = text; this.lang = ""; this.voice = null; this.onend = null; this.onerror = null;
};
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  speaking: false,
  getVoices() {
    return [{name: "Alex", lang: "en-US"}, {name: "Sinji", lang: "zh-HK"},
            {name: "Tingting", lang: "zh-CN"}];
  },
  speak(u) {
    window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice && u.voice.name});
    window.__utterance = u;
    this.speaking = true;
  },
  cancel() { window.__cancels += 1; this.speaking = false; },
  addEventListener() {}, removeEventListener() {},
}});
"""

NO_SPEECH = """
delete window.speechSynthesis;
delete Window.prototype.speechSynthesis;
"""


def spoken_option(text: str) -> str:
    text = " ".join(text.split())
    return text if text[-1:] in "。.？?！!" else text + "。"


def test_read_aloud_reads_the_stem_and_options_in_mandarin(
    live_url, worker_page, open_attempt, worker
):
    page = worker_page
    page.add_init_script(SPEECH_STUB)
    log_in(page, live_url, worker)
    page.goto(f"{live_url}/exams/attempt/{open_attempt.id}")
    page.wait_for_selector("#exam-form[data-exam-enhanced]")
    questions = page.locator("fieldset.question")
    assert page.locator("fieldset.question button.read-aloud").count() == questions.count()

    # the first single-choice question: its stem, then "A，…。B，…。"
    position, item = next(
        (i, it) for i, it in enumerate(open_attempt.items) if it.version.type.value == "single"
    )
    version = item.version
    by_key = {o["key"]: o["text"] for o in version.display_options}
    order = item.option_order or list(by_key)
    button = questions.nth(position).locator("button.read-aloud")
    assert button.inner_text().strip() == zh("Read aloud")
    button.click()
    (said,) = page.evaluate("window.__spoken")
    assert said["lang"] == "zh-CN" and said["voice"] == "Tingting"
    assert said["text"].startswith(version.stem.split("（")[0].rstrip("，, "))
    letters = "ABCDEFGH"[: len(order)]
    expected = "".join(
        f"{letter}，{spoken_option(by_key[key])}"
        for letter, key in zip(letters, order, strict=True)
    )
    assert said["text"].endswith(expected), said["text"]
    assert "（" not in said["text"]
    assert button.inner_text().strip() == zh("Stop reading")

    # pressing again stops
    cancels = page.evaluate("window.__cancels")
    button.click()
    assert page.evaluate("window.__cancels") > cancels
    assert len(page.evaluate("window.__spoken")) == 1
    assert button.inner_text().strip() == zh("Read aloud")

    # the end of the speech resets the button too
    button.click()
    assert button.inner_text().strip() == zh("Stop reading")
    page.evaluate("window.__utterance.onend()")
    assert button.inner_text().strip() == zh("Read aloud")

    # the practice question has the button as well (practice opens once the paper is in)
    services.submit_attempt(open_attempt)
    db.session.commit()
    page.goto(f"{live_url}/learn/{TRADE}/practice")
    page.locator("button.read-aloud").click()
    assert page.evaluate("window.__spoken")[-1]["lang"] == "zh-CN"
    stem = page.locator("fieldset.question legend").inner_text()
    assert stem.split("（")[0].split(" ")[-1] in page.evaluate("window.__spoken")[-1]["text"]


def test_without_speech_synthesis_there_is_no_read_aloud_button(
    live_url, worker_page, open_attempt, worker
):
    page = worker_page
    page.add_init_script(NO_SPEECH)
    log_in(page, live_url, worker)
    page.goto(f"{live_url}/exams/attempt/{open_attempt.id}")
    page.wait_for_selector("#exam-form[data-exam-enhanced]")
    assert page.evaluate("'speechSynthesis' in window") is False
    assert page.locator("fieldset.question").count() > 0
    assert page.locator("button.read-aloud").count() == 0
