"""The question list pages with Flask-SQLAlchemy; a page number out of range shows an end."""

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.banks import services
from certify.banks.importer import import_bank
from certify.banks.models import Question
from certify.extensions import db
from tests.banks.conftest import ROWS, csv_bytes
from tests.factories import make_user


@pytest.fixture
def two_pages(client, login, trade, monkeypatch):
    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    import_bank(trade, "x.csv", csv_bytes(ROWS))
    db.session.commit()
    make_user(Role.TRAINER, username="t1", trades=(trade.code,))
    login("t1")
    stems = [q.current.stem for q in db.session.scalars(sa.select(Question).order_by(Question.id))]
    assert len(stems) == 4
    return stems


def listing(client, trade, query):
    response = client.get(f"/banks/{trade.code}/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["?page=2", "?page=3", "?page=99999999"])
def test_the_last_page_and_past_it(client, trade, two_pages, query):
    page = listing(client, trade, query)
    assert "第 2 页，共 2 页" in page
    assert all(stem in page for stem in two_pages[2:])
    assert not any(stem in page for stem in two_pages[:2])
    assert f'href="/banks/{trade.code}/?page=1"' in page  # 上一页
    assert f'href="/banks/{trade.code}/?page=3"' not in page and "下一页" not in page


@pytest.mark.parametrize("query", ["", "?page=0", "?page=-4", "?page=two"])
def test_the_first_page_and_before_it(client, trade, two_pages, query):
    page = listing(client, trade, query)
    assert "第 1 页，共 2 页" in page and "上一页" not in page
    assert all(stem in page for stem in two_pages[:2])
    assert not any(stem in page for stem in two_pages[2:])
    assert f'href="/banks/{trade.code}/?page=2"' in page  # 下一页


def test_no_match_has_no_pager(client, trade, two_pages):
    page = listing(client, trade, "?q=没有这道题&page=5")
    assert "页，共" not in page and "下一页" not in page and "上一页" not in page
    assert not any(stem in page for stem in two_pages)


def test_the_service_clamps_to_the_last_page(trade, two_pages):
    found = services.search_questions(trade, services.QuestionFilter(page=7))
    assert (found.page, found.pages, found.total) == (2, 2, 4)
    assert [q.current.stem for q in found.items] == two_pages[2:]
