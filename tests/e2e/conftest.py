"""A live server in a thread and Debian's Chromium driven by Playwright, on a phone-sized screen."""

from __future__ import annotations

import functools
import os
import shutil
import threading
from pathlib import Path

import pytest
from babel.support import Translations
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    # The pages behave the same on either database, and the browser suites are the slowest
    # part of CI: they run once, on SQLite (CERTIFY_E2E_ON_POSTGRES=1 runs them there too).
    if os.environ.get("TEST_DATABASE_URL") and not os.environ.get("CERTIFY_E2E_ON_POSTGRES"):
        pytest.skip("browser suites run on the SQLite pass of CI")
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which("chromium") and not __import__("os").path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


# --- screenshots and logging in (the journeys in test_journeys.py) ----------------------------

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT_BYTES = 250_000  # the README's pictures stay small in git


def zh(msgid: str, **values) -> str:
    """The Chinese the pages show for an English message id (the app's own catalogue)."""
    text = _catalogue().gettext(msgid)
    return text % values if values else text


@functools.cache
def _catalogue() -> Translations:
    return Translations.load(str(REPO / "certify" / "translations"), ["zh"])


def _shrink(path: Path) -> None:
    """Re-save a too-large PNG with a 256-colour palette (UI pictures barely change)."""
    if path.stat().st_size <= SCREENSHOT_BYTES:
        return
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


@pytest.fixture
def screenshot(tmp_path):
    """shot(page, name, main=False, full_page=True): a PNG of the page as this step leaves it.

    A PIL image (a rendered PDF page, say) can stand in for the page.

    Every step goes to a pytest temporary folder as NN-name.png. With
    CERTIFY_SCREENSHOTS=docs/screenshots, the steps marked main go to that folder instead,
    numbered 01, 02, … in journey order, so one run refreshes the README's pictures.
    """
    steps = tmp_path / "screenshots"
    steps.mkdir()
    target = os.environ.get("CERTIFY_SCREENSHOTS")
    docs = (REPO / target) if target and not Path(target).is_absolute() else target
    counters = {"step": 0, "main": 0}

    def shot(page, name: str, *, main: bool = False, full_page: bool = True) -> Path:
        counters["step"] += 1
        path = steps / f"{counters['step']:02d}-{name}.png"
        if main:
            counters["main"] += 1
            if docs:
                Path(docs).mkdir(parents=True, exist_ok=True)
                path = Path(docs) / f"{counters['main']:02d}-{name}.png"
        if hasattr(page, "screenshot"):
            page.screenshot(path=str(path), full_page=full_page, animations="disabled", scale="css")
        else:
            page.save(path)
        if main and docs:
            _shrink(path)
        return path

    shot.folder = steps
    return shot


@pytest.fixture
def log_in(live_url):
    """log_in(page, login, password): through the login form, as a person would."""

    def do_log_in(page, login: str, password: str) -> None:
        page.goto(f"{live_url}/login")
        page.get_by_label(zh("User name or ID card number")).fill(login)
        page.get_by_label(zh("Password"), exact=True).fill(password)
        page.get_by_role("button", name=zh("Log in"), exact=True).click()
        page.wait_for_load_state()

    return do_log_in
