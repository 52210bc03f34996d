"""The proctor's board of a session: counts, filters, search and pages, in the database."""

import re

import pytest

from certify.cohorts.services import enrol_roster
from certify.exams import board, services
from certify.extensions import db
from tests.classes import roster_csv, roster_rows


@pytest.fixture
def day(cohort, worker, exam):
    """Four workers: one writing (and left the page once), one handed in, two not started."""
    report = enrol_roster(cohort, "more.csv", roster_csv(roster_rows(3, start=910)))
    assert report.saved, report.problems
    db.session.commit()
    people = sorted((e.user for e in cohort.enrolments), key=lambda u: (u.name, u.id))
    writing, handed_in, *waiting = people
    attempt = services.start_attempt(exam, writing)
    services.record_proctor_event(attempt, "hidden")
    done = services.start_attempt(exam, handed_in)
    services.submit_attempt(done)
    db.session.commit()
    return writing, handed_in, waiting


def names_in(page: str) -> list[str]:
    return re.findall(r'<td data-label="Full name">([^<]+)</td>', page)


def counts_in(page: str) -> dict[str, str]:
    return dict(re.findall(r'state=(\w+)"[^>]*>[^<]+</a></dt><dd[^>]*>(\d+)<', page))


def test_the_board_counts_filters_and_searches(client, login, trainer, exam, day):
    writing, handed_in, waiting = day
    login("teacher")
    client.get("/?lang=en")
    url = f"/exams/sessions/{exam.id}"

    page = client.get(url).get_data(as_text=True)
    assert counts_in(page) == {
        "all": "4",
        "not_started": "2",
        "writing": "1",
        "handed_in": "1",
        "left_page": "1",
    }
    assert names_in(page) == sorted(names_in(page)) and len(names_in(page)) == 4
    waiting_names = sorted(w.name for w in waiting)
    assert sorted(names_in(client.get(f"{url}?state=not_started").get_data(as_text=True))) == (
        waiting_names
    )
    assert names_in(client.get(f"{url}?state=writing").get_data(as_text=True)) == [writing.name]
    assert names_in(client.get(f"{url}?state=left_page").get_data(as_text=True)) == [writing.name]
    handed = client.get(f"{url}?state=handed_in").get_data(as_text=True)
    assert names_in(handed) == [handed_in.name]
    found = client.get(f"{url}?q={handed_in.name[1:]}").get_data(as_text=True)
    assert handed_in.name in names_in(found) and writing.name not in names_in(found)
    by_username = client.get(f"{url}?q={handed_in.username.upper()}")  # any case
    assert names_in(by_username.get_data(as_text=True)) == [handed_in.name]
    nobody = client.get(f"{url}?q=nobody-has-this-name").get_data(as_text=True)
    assert "No workers match." in nobody
    odd = client.get(f"{url}?state=bogus&page=99999999")  # unknown filter: everyone; no 500
    assert odd.status_code == 200 and "No workers match." in odd.get_data(as_text=True)


def test_the_board_pages_and_keeps_its_filter(client, login, trainer, exam, day, monkeypatch):
    monkeypatch.setattr(board, "PER_PAGE", 1)
    login("teacher")
    client.get("/?lang=en")
    url = f"/exams/sessions/{exam.id}"
    first = client.get(f"{url}?state=not_started").get_data(as_text=True)
    assert "Page 1 of 2" in first and "state=not_started&amp;page=2" in first
    second = client.get(f"{url}?state=not_started&page=2").get_data(as_text=True)
    assert len(names_in(first)) == len(names_in(second)) == 1
    assert names_in(first) != names_in(second)


def test_the_board_counts_what_ran_out_as_handed_in_and_the_schedule_grades_it(
    client, login, trainer, exam, day, frozen_clock
):
    writing, _handed_in, waiting = day
    services.start_attempt(exam, waiting[0])
    db.session.commit()
    frozen_clock.advance(minutes=91)
    login("teacher")
    client.get("/?lang=en")
    page = client.get(f"/exams/sessions/{exam.id}").get_data(as_text=True)
    # every paper whose time is up, at once, however many: the board only reads
    assert counts_in(page)["writing"] == "0" and counts_in(page)["handed_in"] == "3"
    db.session.expire_all()
    assert services.find_attempt(exam, writing).is_open  # not graded by a page view
    assert services.expire_overdue() == 2  # the schedule's minute hands them in
    db.session.commit()
    db.session.expire_all()
    assert not services.find_attempt(exam, writing).is_open
    page = client.get(f"/exams/sessions/{exam.id}").get_data(as_text=True)
    assert counts_in(page)["handed_in"] == "3"
