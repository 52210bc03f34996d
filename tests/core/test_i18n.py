import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from certify.accounts.models import Role
from tests.factories import make_user

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "certify/translations/zh/LC_MESSAGES/messages.po"


def test_chinese_is_the_default_and_lang_en_switches_for_the_visit(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "User name or ID card number" in english
    # the choice sticks for the rest of the visit
    assert "User name or ID card number" in client.get("/login").get_data(as_text=True)
    assert "用户名或身份证号" in client.get("/login?lang=zh").get_data(as_text=True)


def test_the_language_switch_is_remembered_for_the_user(client, login):
    make_user(Role.TRAINER, username="t1")
    login("t1")
    client.post("/language/en", data={"next": "/catalog/trades"})
    assert "Trades" in client.get("/catalog/trades").get_data(as_text=True)
    client.post("/logout")
    with client.session_transaction() as session:
        session.clear()
    login("t1")
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(client):
    response = client.post("/language/en", data={"next": "//evil.example/"})
    assert response.headers["Location"] == "/"


def test_every_visible_string_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            # Babel skips folders starting with "_" by default: templates/_macros has text too.
            "--ignore-dirs",
            ".*",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with PO.open("rb") as f:
        catalog = read_po(f, locale="zh")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(wanted - translated)
    assert not missing, f"untranslated (run make translations-update): {missing}"
