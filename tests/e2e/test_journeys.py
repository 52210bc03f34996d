"""The whole product on one path, through the pages, in Chinese, with a screenshot at each step.

A trainer fills the question bank, loads the blueprint, opens a class, imports its roster,
prints a login slip and schedules the exam. The worker logs in on a phone with the ID number
and the slip's password, chooses a password, practises and takes the 90-question exam: every
answer is saved as it is chosen, a reload keeps them, answers chosen while the network is cut
arrive when it returns, and handing in asks first. An examiner enters practical scores; the
office publishes the results, makes them final, issues the certificates and submits them to
the bureau; the bureau's reviewer endorses the batch. Finally an employer's phone opens the
address in the QR code of the worker's downloaded PDF and sees that it is endorsed.

Made outside the pages (they have no page for them): the staff accounts, the trade with its
knowledge areas and the signing key. Elements are found by role, label and visible text (the
two exceptions say why).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pypdfium2 as pdfium
import sqlalchemy as sa
import zxingcpp
from playwright.sync_api import Page, expect

from certify.accounts.models import Role, User
from certify.certificates.signing import init_keys
from certify.core import clock
from certify.demo.data import BANKS_DIR, WAREHOUSE_KEEPER_AREAS
from certify.exams import services as exams
from certify.exams.models import Attempt, AttemptStatus
from certify.extensions import db
from tests.classes import roster_csv, roster_rows
from tests.e2e.conftest import zh
from tests.factories import PASSWORD, make_trade, make_user

TRADE = "warehouse-keeper"
BANK = BANKS_DIR / "warehouse-keeper.csv"
BANK_SIZE = len(BANK.read_text(encoding="utf-8").splitlines()) - 1  # one question a line
CLASS_NAME = "2026年第一期仓库保管员培训班"
ACCESS_CODE = "WZ2026"
WORKER_PASSWORD = "wenzhou-cangku-8"
PAPER = 90
RELOAD_AFTER = 40  # answers chosen before the page is reloaded
OFFLINE = range(60, 65)  # answers chosen with the network cut
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESK = {"viewport": {"width": 1280, "height": 800}}
WAIT = 20_000  # ms: saving and sending on this 2-core machine

# --- what the test knows: the people, and the answer key a well-prepared worker has -------


@dataclass
class Cast:
    trainer: User
    examiner: User
    admin: User
    reviewer: User
    workers: list[list[str]]  # roster rows: 姓名, 证件类型, 证件号码, …

    @property
    def worker_name(self) -> str:
        return self.workers[0][0]

    @property
    def worker_id(self) -> str:
        return self.workers[0][2]


@dataclass
class Journey:
    live_url: str
    config: dict
    browser: object
    shot: object
    log_in: object
    cast: Cast
    exam_name: str = ""
    slip_password: str = ""
    pdf: bytes = b""
    dialogs: list[str] = field(default_factory=list)
    contexts: list = field(default_factory=list)

    def desk(self, who: User) -> Page:
        """A staff member at an office computer, logged in."""
        page = self._page(DESK)
        self.log_in(page, who.username, PASSWORD)
        expect(menu(page)).to_be_visible()
        return page

    def phone(self) -> Page:
        return self._page(PHONE)

    def _page(self, device: dict) -> Page:
        context = self.browser.new_context(locale="zh-CN", **device)
        context.set_default_timeout(WAIT)
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", self._accept)
        return page

    def confirm(self, page: Page, button) -> str:
        """Press a button that asks “are you sure?” first; returns the question asked."""
        page.bring_to_front()  # Chromium may cancel a dialog of a page in the background
        self.dialogs.clear()
        button.click()
        for _tick in range(50):  # the question may be answered just after the click returns
            if self.dialogs:
                break
            page.wait_for_timeout(100)
        assert len(self.dialogs) == 1, self.dialogs
        return self.dialogs[0]

    def leave(self, page: Page) -> None:
        """This person is done: their browser closes."""
        page.context.close()
        self.contexts.remove(page.context)

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def _accept(self, dialog) -> None:
        """Every “are you sure?” is answered yes; the questions are kept for the asserts."""
        self.dialogs.append(dialog.message)
        dialog.accept()


def squash(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Key:
    role: str  # how its options are chosen: "radio" or "checkbox"
    right: list[str]  # the texts of the right options
    wrong: list[str]


def answer_key() -> dict[str, Key]:
    """Stem → its key, from the bank file the trainer uploads (the worker studied well)."""
    key = {}
    with BANK.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["题型"] == "判断题":
                options = {"T": zh("True"), "F": zh("False")}
                answer = "T" if row["答案"] in ("正确", "对", "√", "T") else "F"
            else:
                options = {k: squash(row[f"选项{k}"]) for k in "ABCDEFGH" if row.get(f"选项{k}")}
                answer = row["答案"]
            key[squash(row["题干"])] = Key(
                "checkbox" if row["题型"] == "多选题" else "radio",
                [text for k, text in options.items() if k in answer],
                [text for k, text in options.items() if k not in answer],
            )
    return key


def key_for(key: dict[str, Key], legend: str) -> Key:
    """The legend reads “12. 单选题 stem” in the exam, “单选题 stem” in practice."""
    (found,) = [k for stem, k in key.items() if squash(legend).endswith(stem)]
    return found


def option_name(text: str) -> re.Pattern:
    """An option's accessible name: its letter (none for true/false), then its text."""
    return re.compile(r"(^|\s)" + r"\s+".join(map(re.escape, text.split())) + r"$")


def starts(text: str) -> re.Pattern:
    """A tile's name: its title, then the line under it."""
    return re.compile("^" + re.escape(text))


def questions_on(page: Page):
    """The question groups: each a fieldset whose legend is the question."""
    return page.get_by_role("group").filter(has=page.locator("legend"))


def menu(page: Page):
    return page.get_by_role("navigation", name=zh("Main menu"))


def shows(page: Page, text: str) -> None:
    expect(page.get_by_text(text)).to_be_visible()


def read_db(query):
    """Look at what the server saved, then let go of the database (the live server writes)."""
    db.session.expire_all()
    try:
        return query()
    finally:
        db.session.rollback()


# --- the journey --------------------------------------------------------------------------


def test_from_question_bank_to_an_endorsed_certificate(app, live_url, browser, screenshot, log_in):
    journey = Journey(live_url, app.config, browser, screenshot, log_in, set_up_outside_the_pages())
    try:
        walk(journey)
    finally:
        journey.close()


def walk(journey: Journey) -> None:
    trainer = journey.desk(journey.cast.trainer)
    trainer_uploads_the_question_bank(journey, trainer)
    trainer_loads_the_blueprint(journey, trainer)
    trainer_creates_the_class_and_imports_the_roster(journey, trainer)
    trainer_prints_the_login_slip(journey, trainer)

    # Workers practise before the exam opens: while it is open, practice is closed to them.
    worker = journey.phone()
    worker_logs_in_with_the_id_number_and_changes_the_password(journey, worker)
    worker_practises(journey, worker)

    trainer_schedules_the_exam(journey, trainer)
    journey.leave(trainer)
    worker_takes_the_timed_exam(journey, worker)

    examiner = journey.desk(journey.cast.examiner)
    examiner_enters_practical_scores(journey, examiner)
    journey.leave(examiner)

    admin = journey.desk(journey.cast.admin)
    admin_publishes_and_finalises_the_results(journey, admin)
    admin_issues_the_certificates(journey, admin)
    admin_submits_the_batch_to_the_bureau(journey, admin)
    journey.leave(admin)

    reviewer = journey.desk(journey.cast.reviewer)
    reviewer_endorses_the_batch(journey, reviewer)
    journey.leave(reviewer)

    worker_downloads_the_certificate(journey, worker)
    employer_scans_the_qr_code(journey)


def set_up_outside_the_pages() -> Cast:
    """The staff accounts, the trade (without its bank) and the signing key."""
    make_trade(TRADE, areas=tuple(WAREHOUSE_KEEPER_AREAS))
    trades = (TRADE,)
    cast = Cast(
        trainer=make_user(Role.TRAINER, username="teacher", name="王老师", trades=trades),
        examiner=make_user(Role.EXAMINER, username="examiner", name="陈考评", trades=trades),
        admin=make_user(Role.ADMIN, username="office", name="周主任", trades=trades),
        reviewer=make_user(Role.HR, username="bureau", name="林审核", trades=trades),
        workers=roster_rows(3),
    )
    init_keys()
    db.session.commit()
    return cast


# --- the trainer ----------------------------------------------------------------------------


def trainer_uploads_the_question_bank(journey: Journey, page: Page) -> None:
    menu(page).get_by_role("link", name=zh("Question banks")).click()
    page.get_by_role("link", name="仓库保管员").click()
    page.get_by_role("link", name=zh("Import questions")).click()
    page.get_by_label(zh("Question file")).set_input_files(str(BANK))
    page.get_by_role("button", name=zh("Check the file")).click()
    confirm = page.get_by_role("button", name=zh("Import %(n)d questions", n=BANK_SIZE))
    expect(confirm).to_be_visible()
    journey.shot(page, "trainer-checks-the-question-bank", main=True, full_page=False)
    confirm.click()
    expect(page.get_by_text(zh("%(n)d active questions", n=BANK_SIZE))).to_be_visible()
    journey.shot(page, "trainer-bank-imported")


def trainer_loads_the_blueprint(journey: Journey, page: Page) -> None:
    """question_banks/warehouse-keeper-5.blueprint.json, typed into the blueprint form."""
    blueprint = json.loads((BANKS_DIR / "warehouse-keeper-5.blueprint.json").read_text("utf-8"))
    page.get_by_role("link", name=zh("New blueprint")).click()
    page.get_by_label(zh("Name"), exact=True).fill(blueprint["name"])
    page.get_by_label(zh("Level"), exact=True).select_option(label=zh("Level 5 / junior worker"))
    page.get_by_label(zh("Duration (minutes)")).fill(str(blueprint["duration_minutes"]))
    page.get_by_label(zh("Pass mark")).fill(str(blueprint["pass_mark"]))
    # Exception 1: each section row labels its inputs just 题目 and 每题分值 (the same three
    # times; the type's name beside them is not part of the label), so they go by form name.
    for section in blueprint["sections"]:
        page.locator(f'input[name="{section["type"]}_count"]').fill(str(section["count"]))
        page.locator(f'input[name="{section["type"]}_points"]').fill(section["points"])
    for quota in blueprint["quotas"]:
        page.get_by_label(quota["area"], exact=True).fill(str(quota["weight"]))
    difficulty = {"1": "Easy", "2": "Fairly easy", "3": "Medium", "4": "Fairly hard", "5": "Hard"}
    for level, pct in blueprint["difficulty_mix"].items():
        page.get_by_label(zh(difficulty[level]), exact=True).fill(str(pct))
    page.get_by_role("button", name=zh("Save and check")).click()
    expect(page.get_by_role("heading", name=blueprint["name"])).to_be_visible()
    expect(page.get_by_text(zh("The blueprint is saved."))).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)  # “No. Some parts have fewer …”
    journey.shot(page, "trainer-checks-the-blueprint")


def trainer_creates_the_class_and_imports_the_roster(journey: Journey, page: Page) -> None:
    menu(page).get_by_role("link", name=zh("Training classes")).click()
    page.get_by_role("link", name=zh("New class")).first.click()
    page.get_by_label(zh("Trade and level")).select_option(
        label=f"仓库保管员 · {zh('Level 5 / junior worker')}"
    )
    page.get_by_label(zh("Class name")).fill(CLASS_NAME)
    page.get_by_label(zh("Places")).fill("40")
    page.get_by_label(zh("Exam time and place")).fill("12月12日 9:00 三楼机房")
    page.get_by_role("button", name=zh("Save"), exact=True).click()
    expect(page.get_by_role("heading", name=CLASS_NAME)).to_be_visible()

    page.get_by_role("link", name=starts(zh("Import roster"))).first.click()
    page.get_by_label(zh("Roster file")).set_input_files(
        files=[
            {
                "name": "花名册.csv",
                "mimeType": "text/csv",
                "buffer": roster_csv(journey.cast.workers),
            }
        ]
    )
    page.get_by_role("button", name=zh("Check the roster")).click()
    enrol = page.get_by_role("button", name=zh("Enrol %(n)d workers", n=len(journey.cast.workers)))
    expect(enrol).to_be_visible()
    journey.shot(page, "trainer-checks-the-roster")
    enrol.click()
    for row in journey.cast.workers:
        expect(page.get_by_role("cell", name=row[0], exact=True)).to_be_visible()
    journey.shot(page, "trainer-class-with-its-roster", main=True)


def trainer_prints_the_login_slip(journey: Journey, page: Page) -> None:
    """The worker's slip, read the way a person reads it: the password under 初始密码."""
    row = page.get_by_role("row").filter(has_text=journey.cast.worker_name)
    href = row.get_by_role("link", name=zh("Slip")).get_attribute("href")
    response = page.request.get(journey.live_url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    slip = pdfium.PdfDocument(response.body())[0]
    journey.shot(slip.render(scale=1.5).to_pil(), "trainer-prints-the-login-slip")
    text = slip.get_textpage().get_text_range()
    after = squash(text).split(zh("First password"), 1)[1]
    journey.slip_password = re.search(r"[a-z2-9](?: ?[a-z2-9]){9}", after).group(0).replace(" ", "")
    assert journey.cast.worker_name in text


def trainer_schedules_the_exam(journey: Journey, page: Page) -> None:
    page.get_by_role("link", name=starts(zh("Schedule the exam"))).click()
    now = clock.local(clock.now())
    page.get_by_label(zh("Opens")).fill((now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(zh("Closes")).fill((now + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label(zh("Access code announced in the room")).fill(ACCESS_CODE)
    page.get_by_role("button", name=zh("Schedule the exam")).click()
    shows(page, zh("The exam is scheduled."))
    journey.exam_name = page.get_by_role("heading", level=1).inner_text()
    journey.shot(page, "trainer-exam-scheduled")


# --- the worker, on a phone ---------------------------------------------------------------------


def worker_logs_in_with_the_id_number_and_changes_the_password(journey: Journey, page: Page):
    page.goto(journey.live_url)
    page.get_by_label(zh("User name or ID card number")).fill(journey.cast.worker_id)
    page.get_by_label(zh("Password"), exact=True).fill(journey.slip_password)
    journey.shot(page, "worker-logs-in-with-the-id-number", main=True)
    page.get_by_role("button", name=zh("Log in"), exact=True).click()

    expect(page.get_by_role("heading", name=zh("Change password"))).to_be_visible()
    page.get_by_label(zh("Current password")).fill(journey.slip_password)
    page.get_by_label(zh("New password"), exact=True).fill(WORKER_PASSWORD)
    page.get_by_label(zh("New password again")).fill(WORKER_PASSWORD)
    journey.shot(page, "worker-chooses-a-password")
    page.get_by_role("button", name=zh("Save the new password")).click()
    shows(page, zh("Your new password is saved."))
    expect(page.get_by_text(CLASS_NAME)).to_be_visible()
    journey.shot(page, "worker-home")


def worker_practises(journey: Journey, page: Page) -> None:
    """Two questions: one answered right, one wrong (it goes to the wrong-answer book)."""
    key = answer_key()
    menu(page).get_by_role("link", name=zh("Study")).click()
    page.get_by_role("link", name=starts(zh("Practice"))).first.click()
    for right in (True, False):
        question = questions_on(page)
        found = key_for(key, question.locator("legend").inner_text())
        for text in found.right if right else found.wrong[:1]:
            question.get_by_role(found.role, name=option_name(text)).check()
        page.get_by_role("button", name=zh("Check my answer")).click()
        verdict = zh("Right!") if right else zh("Not right.")
        expect(page.get_by_role("status").filter(has_text=verdict)).to_be_visible()
        if right:
            journey.shot(page, "worker-practice-right")
        else:
            journey.shot(page, "worker-practises", main=True)
        page.get_by_role("link", name=zh("Next question")).click()


def worker_takes_the_timed_exam(journey: Journey, page: Page) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    menu(page).get_by_role("link", name=zh("My exams")).click()
    page.get_by_label(zh("Access code (the proctor says it in the room)")).fill(ACCESS_CODE)
    page.get_by_role("button", name=zh("Start the exam")).click()
    expect(page.get_by_role("timer")).to_be_visible()
    attempt_id = int(re.search(r"/exams/attempt/(\d+)", page.url).group(1))

    key = answer_key()
    questions = questions_on(page)
    keys = [key_for(key, legend) for legend in questions.locator("legend").all_inner_texts()]
    assert len(keys) == PAPER
    chosen: dict[int, list[str]] = {}  # position → the option values the page sends
    saved_text = page.get_by_text(zh("Saved"), exact=True)
    unsaved_text = page.get_by_text(
        zh("Not saved yet: it is sent when the network is back"), exact=True
    )

    def option(position: int, text: str):
        return questions.nth(position).get_by_role(keys[position].role, name=option_name(text))

    def answer(position: int) -> None:
        values = []
        for text in keys[position].right:
            option(position, text).check()
            values.append(option(position, text).get_attribute("value"))
        chosen[position] = sorted(values)

    def saved_on_server() -> dict[int, list[str]]:
        return read_db(lambda: exams.answers_by_position(db.session.get(Attempt, attempt_id)))

    # online: each answer is saved as it is chosen
    answer(0)
    expect(questions.nth(0).get_by_text(zh("Saved"), exact=True)).to_be_visible(timeout=WAIT)
    journey.shot(page, "worker-exam-first-answer-saved", full_page=False)
    for position in range(1, RELOAD_AFTER):
        answer(position)
    expect(saved_text).to_have_count(RELOAD_AFTER, timeout=WAIT)
    assert len(saved_on_server()) == RELOAD_AFTER

    # a reload in the middle keeps every answer
    page.reload()
    expect(page.get_by_role("timer")).to_be_visible()
    expect(saved_text).to_have_count(RELOAD_AFTER)
    for position in range(RELOAD_AFTER):
        for text in keys[position].right:
            expect(option(position, text)).to_be_checked()
    for position in range(RELOAD_AFTER, OFFLINE.start):
        answer(position)
    expect(saved_text).to_have_count(OFFLINE.start, timeout=WAIT)

    # the network is cut: the answers wait on the phone, and the page says so
    page.context.set_offline(True)
    for position in OFFLINE:
        answer(position)
    expect(unsaved_text).to_have_count(len(OFFLINE))
    offline_note = zh(
        "The network is down. Your answers are kept on this phone and sent when it is back."
    )
    note = page.get_by_role("status").filter(has_text=offline_note)
    expect(note).to_be_visible()
    note.scroll_into_view_if_needed()
    journey.shot(page, "worker-exam-offline-note", full_page=False)
    questions.nth(OFFLINE.stop - 1).evaluate("q => q.scrollIntoView({block: 'center'})")
    journey.shot(page, "worker-exam-offline", main=True, full_page=False)
    assert len(saved_on_server()) == OFFLINE.start

    # the network is back: the queued answers arrive
    page.context.set_offline(False)
    expect(unsaved_text).to_have_count(0, timeout=WAIT)
    expect(saved_text).to_have_count(OFFLINE.stop, timeout=WAIT)
    assert len(saved_on_server()) == OFFLINE.stop

    for position in range(OFFLINE.stop, PAPER):
        answer(position)
    expect(saved_text).to_have_count(PAPER, timeout=WAIT)
    # Exception 2: the page knows a question by its number on the paper (data-question), never
    # by its bank id; the server's answers are read back the same way.
    ids = [int(questions.nth(p).get_attribute("data-question")) for p in range(PAPER)]
    assert ids == list(range(1, PAPER + 1))
    assert saved_on_server() == {ids[p]: values for p, values in chosen.items()}

    # hand in, after the page asks
    asked = journey.confirm(page, page.get_by_role("button", name=zh("Hand in")))
    assert asked == zh("Hand in now? You cannot change answers afterwards.")
    page.wait_for_url(f"**/exams/attempt/{attempt_id}/done", timeout=WAIT)
    answered = zh(
        "You answered %(n)d of %(m)d questions. All your saved answers are kept.", n=PAPER, m=PAPER
    )
    shows(page, answered)
    status, score = read_db(
        lambda: db.session.execute(
            sa.select(Attempt.status, Attempt.score_hundredths).where(Attempt.id == attempt_id)
        ).one()
    )
    assert status is AttemptStatus.GRADED and score == 100_00
    assert errors == []
    journey.shot(page, "worker-exam-handed-in")


# --- the examiner and the office ---------------------------------------------------------------


def examiner_enters_practical_scores(journey: Journey, page: Page) -> None:
    page.get_by_role("link", name=journey.exam_name).click()
    scores = ["86", "72", "55"]
    for row, score in zip(journey.cast.workers, scores, strict=True):
        page.get_by_label(f"{zh('My score')} {row[0]}").fill(score)
    page.get_by_role("button", name=zh("Save my scores")).click()
    shows(page, zh("%(n)d scores saved.", n=len(scores)))
    journey.shot(page, "examiner-enters-practical-scores", main=True)


def open_the_exam(journey: Journey, page: Page) -> None:
    menu(page).get_by_role("link", name=zh("Training classes")).click()
    page.get_by_role("link", name=CLASS_NAME).click()
    page.get_by_role("link", name=journey.exam_name).click()


def admin_publishes_and_finalises_the_results(journey: Journey, page: Page) -> None:
    open_the_exam(journey, page)
    # 收卷: results wait for the exam, so the office closes it once the hall is done.
    asked = journey.confirm(page, page.get_by_role("button", name=zh("Close the exam now")))
    assert asked == zh(
        "Close the exam now? Nobody can start any more, and every paper still being written is "
        "handed in with the answers saved so far."
    )
    shows(page, zh("The exam is closed; %(n)d papers were handed in.", n=0))
    page.get_by_role("main").get_by_role("link", name=starts(zh("Results"))).click()
    expect(page.get_by_text(zh("%(n)d of %(m)d passed.", n=1, m=3))).to_be_visible()
    # The two who never came are 缺考, not 不合格.
    expect(page.get_by_text(zh("%(n)d absent (缺考).", n=2))).to_be_visible()
    page.get_by_label(zh("Working days of publicity")).fill("0")  # 0: may be final at once
    page.get_by_role("button", name=zh("Publish the results")).click()
    expect(page.get_by_role("link", name=re.compile("publicity"))).to_be_visible()
    journey.shot(page, "admin-publishes-the-results", main=True)
    asked = journey.confirm(page, page.get_by_role("button", name=zh("Make the results final")))
    assert asked == zh("Make the results final? They cannot change afterwards.")
    shows(page, zh("%(n)d results are final.", n=3))
    journey.shot(page, "admin-results-final")


def admin_issues_the_certificates(journey: Journey, page: Page) -> None:
    open_the_exam(journey, page)
    page.get_by_role("main").get_by_role("link", name=starts(zh("Certificates"))).click()
    page.get_by_role("button", name=zh("Issue all %(n)d certificates", n=1)).click()
    expect(
        page.get_by_text(zh("Every final pass of this session already has its certificate."))
    ).to_be_visible(timeout=30_000)
    expect(page.get_by_role("cell", name=journey.cast.worker_name)).to_be_visible()
    journey.shot(page, "admin-issues-the-certificates")


def admin_submits_the_batch_to_the_bureau(journey: Journey, page: Page) -> None:
    menu(page).get_by_role("link", name=zh("Endorsement")).click()
    page.get_by_role("link", name=zh("Submit certificates to the bureau")).click()
    page.get_by_role("link", name=journey.exam_name).click()
    journey.confirm(page, page.get_by_role("button", name=zh("Submit to the bureau")))
    submitted = zh("Batch %(ref)s is submitted to the bureau (certificates: %(n)d).", ref="@", n=1)
    expect(page.get_by_text(re.compile(re.escape(submitted).replace("@", ".+")))).to_be_visible()
    journey.shot(page, "admin-batch-submitted")


def reviewer_endorses_the_batch(journey: Journey, page: Page) -> None:
    page.get_by_role("link", name=zh("Open the inbox")).click()
    page.get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=journey.cast.worker_name)).to_be_visible()
    # The certificate's PDF opens in a frame; headless Chromium has no PDF viewer and takes it
    # as a download, whose start would cancel the confirmation asked below. Let it finish,
    # then fold the frame away rather than picture it empty.
    page.wait_for_load_state("networkidle")
    page.get_by_text(zh("Show the certificate (PDF)")).click()
    page.get_by_label(
        zh("I have checked these certificates against the roster and the PDFs.")
    ).check()
    journey.shot(page, "reviewer-endorses-the-batch", main=True, full_page=False)
    endorse_all = page.get_by_role("button", name=zh("Endorse all not yet decided (%(n)d)", n=1))
    journey.confirm(page, endorse_all)
    shows(page, zh("Certificates endorsed: %(n)d.", n=1))
    journey.shot(page, "reviewer-batch-decided")


# --- the certificate in the world ----------------------------------------------------------


def worker_downloads_the_certificate(journey: Journey, page: Page) -> None:
    menu(page).get_by_role("link", name=zh("My certificates")).click()
    body = journey.config["ENDORSING_BODY"]
    expect(
        page.get_by_text(zh("Your certificate is valid and endorsed by %(body)s.", body=body))
    ).to_be_visible()
    journey.shot(page, "worker-sees-the-endorsed-certificate", main=True)
    with page.expect_download() as download:
        page.get_by_role("link", name=zh("Download the certificate (PDF)")).click()
    journey.pdf = Path(download.value.path()).read_bytes()
    assert journey.pdf.startswith(b"%PDF")


def employer_scans_the_qr_code(journey: Journey) -> None:
    """Page 1 of the PDF, as pixels, through a QR decoder, then a phone with nobody logged in."""
    page_one = pdfium.PdfDocument(journey.pdf)[0]
    codes = zxingcpp.read_barcodes(page_one.render(scale=3).to_pil())
    (url,) = [c.text for c in codes if c.format == zxingcpp.BarcodeFormat.QRCode]
    printed = urlsplit(url)
    assert f"{printed.scheme}://{printed.netloc}" == journey.config["BASE_URL"]
    employer = journey.phone()
    employer.goto(f"{journey.live_url}{printed.path}?{printed.query}")  # BASE_URL → this server
    verdict = employer.get_by_role("status").filter(has_text=zh("Genuine certificate, endorsed"))
    expect(verdict).to_be_visible()
    expect(employer.get_by_text(journey.cast.worker_name)).to_have_count(0)  # masked
    journey.shot(employer, "employer-checks-the-qr-code", main=True)
