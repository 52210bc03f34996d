import io
import re

import sqlalchemy as sa

from certify.accounts.models import Role
from certify.banks.importer import import_bank
from certify.banks.models import Question, QuestionStatus
from certify.extensions import db
from tests.banks.conftest import ROWS, csv_bytes, xlsx_bytes
from tests.factories import make_user


def _questions():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Question).order_by(Question.id)))


def _as_trainer(login, trade):
    make_user(Role.TRAINER, username="t1", trades=(trade.code,))
    login("t1")


def _upload(client, code, data, name, **fields):
    return client.post(
        f"/banks/{code}/import",
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def test_trainer_uploads_sees_a_preview_then_confirms(client, login, trade):
    _as_trainer(login, trade)
    page = _upload(client, trade.code, xlsx_bytes(ROWS), "题库.xlsx").get_data(as_text=True)
    assert "仓库消防通道应当" in page and _questions() == []
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/banks/{trade.code}/import/confirm", data={"token": token})
    assert response.status_code == 302
    assert len(_questions()) == 4
    listing = client.get(f"/banks/{trade.code}/").get_data(as_text=True)
    assert "商品入库验收的内容包括" in listing and "题库.xlsx" in listing
    # the token is spent
    again = client.post(f"/banks/{trade.code}/import/confirm", data={"token": token})
    assert again.headers["Location"].endswith("/import") and len(_questions()) == 4


def test_preview_lists_problems_by_row_and_offers_only_the_correct_ones(client, login, trade):
    _as_trainer(login, trade)
    rows = [*ROWS, ["单选题", "没有答案", "甲", "乙", "", "", "", "入库作业/验收", "", "", ""]]
    page = _upload(client, trade.code, csv_bytes(rows, "gbk"), "gbk.csv").get_data(as_text=True)
    assert "第 6 行" in page and "答案" in page
    # the whole file cannot be confirmed; the correct questions alone can, without re-uploading
    assert "导入 4 道题" not in page and "只导入正确的 4 道" in page
    assert re.findall(r'name="valid_only" type="hidden" value="([^"]*)"', page) == ["y"]
    page = _upload(client, trade.code, csv_bytes(rows, "gbk"), "gbk.csv", valid_only="y").get_data(
        as_text=True
    )
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(f"/banks/{trade.code}/import/confirm", data={"token": token, "valid_only": "y"})
    assert len(_questions()) == 4


def test_a_broken_file_gets_a_clear_message_not_an_error_page(client, login, trade):
    _as_trainer(login, trade)
    response = _upload(client, trade.code, b"\x00\xff" * 500, "junk.xlsx")
    assert response.status_code == 422
    assert "junk.xlsx" in response.get_data(as_text=True)


def test_an_upload_over_the_size_limit_is_refused_politely(client, login, trade, app):
    _as_trainer(login, trade)
    big = b"0" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = _upload(client, trade.code, big, "huge.csv")
    assert response.status_code == 413
    assert "文件太大" in response.get_data(as_text=True)


def test_trainers_only_see_banks_of_their_trades(client, login, trade, special_trade):
    _as_trainer(login, trade)
    assert client.get(f"/banks/{special_trade.code}/").status_code == 403
    assert client.get(f"/banks/{special_trade.code}/export.csv").status_code == 403
    index = client.get("/banks/").get_data(as_text=True)
    assert trade.name in index and special_trade.name not in index


def test_filters_and_search(client, login, trade):
    import_bank(trade, "x.csv", csv_bytes(ROWS))
    db.session.commit()
    _as_trainer(login, trade)
    page = client.get(f"/banks/{trade.code}/?type=true_false").get_data(as_text=True)
    assert "重不压轻" in page and "消防通道" not in page
    page = client.get(f"/banks/{trade.code}/?q=消防").get_data(as_text=True)
    assert "消防通道" in page and "重不压轻" not in page


def test_the_bank_pages_keep_their_filter(client, login, trade, monkeypatch):
    from certify.banks import services

    monkeypatch.setattr(services, "PAGE_SIZE", 1)
    import_bank(trade, "x.csv", csv_bytes(ROWS))
    db.session.commit()
    _as_trainer(login, trade)
    first = client.get(f"/banks/{trade.code}/?type=true_false").get_data(as_text=True)
    assert "第 1 页，共" in first
    assert f'href="/banks/{trade.code}/?type=true_false&amp;page=2"' in first
    second = client.get(f"/banks/{trade.code}/?type=true_false&page=2").get_data(as_text=True)
    assert f'href="/banks/{trade.code}/?type=true_false&amp;page=1"' in second


def test_edit_and_retire_a_question(client, login, trade):
    import_bank(trade, "x.csv", csv_bytes(ROWS))
    db.session.commit()
    _as_trainer(login, trade)
    question = _questions()[0]
    area_id = question.current.area_id
    response = client.post(
        f"/banks/{trade.code}/questions/{question.id}",
        data={
            "type": "single",
            "stem": "仓库消防通道必须（  ）。",
            "option_A": "保持畅通",
            "option_B": "堆放货物",
            "answer": "A",
            "area": area_id,
            "difficulty": "1",
        },
    )
    assert response.status_code == 302
    current = _questions()[0].current
    assert current.stem == "仓库消防通道必须（  ）。" and current.correct == ["A"]
    assert [o["text"] for o in current.options] == ["保持畅通", "堆放货物"]
    page = client.post(
        f"/banks/{trade.code}/questions/{question.id}",
        data={
            "type": "single",
            "stem": "x",
            "option_A": "甲",
            "option_B": "乙",
            "answer": "C",
            "area": area_id,
            "difficulty": "1",
        },
    ).get_data(as_text=True)
    assert "答案" in page and "C" in page
    client.post(f"/banks/{trade.code}/questions/{question.id}/retire")
    assert _questions()[0].status is QuestionStatus.RETIRED
    client.post(f"/banks/{trade.code}/questions/{question.id}/reactivate")
    assert _questions()[0].status is QuestionStatus.ACTIVE


def test_downloads(client, login, trade):
    import_bank(trade, "x.csv", csv_bytes(ROWS))
    db.session.commit()
    _as_trainer(login, trade)
    template = client.get("/banks/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"
    for fmt in ("xlsx", "csv", "gift"):
        response = client.get(f"/banks/{trade.code}/export.{fmt}")
        assert response.status_code == 200 and len(response.data) > 100
    assert client.get(f"/banks/{trade.code}/export.pdf").status_code == 404


def test_trainer_builds_a_blueprint_on_the_page_and_sees_its_check(client, login, trade):
    rows = "题型,题干,选项A,选项B,答案,知识点\n" + "".join(
        f"单选题,入库题{i}？,甲,乙,A,入库作业/验收\n" for i in range(120)
    )
    import_bank(trade, "x.csv", rows.encode())
    db.session.commit()
    _as_trainer(login, trade)
    areas = {a.path: a.id for a in trade.areas}
    form = {
        "name": "五级理论",
        "level": "5",
        "duration_minutes": "90",
        "pass_mark": "60",
        "single_count": "50",
        "single_points": "2",
        f"quota_{areas['入库作业']}": "100",
    }
    page = client.get(f"/banks/{trade.code}/blueprints/new").get_data(as_text=True)
    assert "题型部分" in page and "入库作业" in page
    bad = client.post(f"/banks/{trade.code}/blueprints/new", data={**form, "single_points": "1"})
    assert "合计 50 分" in bad.get_data(as_text=True)
    response = client.post(f"/banks/{trade.code}/blueprints/new", data=form)
    assert response.status_code == 302
    check = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "五级理论" in check and "50 / 120" in check and "够。" in check
    edit = client.get(response.headers["Location"].rstrip("/") + "/edit")
    assert 'value="五级理论"' in edit.get_data(as_text=True)
