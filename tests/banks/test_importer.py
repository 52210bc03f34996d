import pytest
import sqlalchemy as sa

from certify.audit.models import AuditEvent
from certify.banks.importer import ImportOptions, detect_format, import_bank
from certify.banks.models import BankImport, Question
from certify.catalog.services import find_area_by_path
from certify.core.tables import UnusableFile
from certify.extensions import db
from tests.banks.conftest import ROWS, csv_bytes, xlsx_bytes

BROKEN = ["单选题", "没有答案的题", "甲", "乙", "", "", "", "入库作业/验收", "", "", ""]


def _count(model=Question):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_clean_file_is_imported_with_a_record_and_an_audit_entry(trade):
    report = import_bank(trade, "题库.xlsx", xlsx_bytes(ROWS))
    db.session.commit()
    assert report.saved and report.imported == 4 and _count() == 4
    batch = db.session.scalar(sa.select(BankImport))
    assert (batch.format, batch.imported, batch.filename) == ("xlsx", 4, "题库.xlsx")
    assert len(batch.sha256) == 64
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "bank.imported"))
    assert event.after["imported"] == 4


def test_one_bad_row_saves_nothing_by_default(trade):
    report = import_bank(trade, "x.csv", csv_bytes([*ROWS, BROKEN]))
    db.session.commit()
    assert not report.saved and _count() == 0 and _count(BankImport) == 0
    assert [(p.number, p.field) for p in report.problems] == [(6, "答案")]


def test_valid_only_is_an_explicit_choice_that_lists_what_was_left_out(trade):
    report = import_bank(trade, "x.csv", csv_bytes([*ROWS, BROKEN]), ImportOptions(valid_only=True))
    db.session.commit()
    assert report.saved and report.imported == 4 and report.invalid_count == 1
    assert report.problems[0].number == 6
    assert db.session.scalar(sa.select(BankImport.left_out)) == 1


def test_dry_run_saves_nothing(trade):
    report = import_bank(trade, "x.csv", csv_bytes(ROWS), ImportOptions(dry_run=True))
    db.session.commit()
    assert not report.saved and len(report.valid) == 4 and _count() == 0


def test_duplicates_in_the_file_and_in_the_bank_are_reported_not_imported(trade):
    import_bank(trade, "x.csv", csv_bytes(ROWS[:2]))
    db.session.commit()
    twin = list(ROWS[0])
    twin[1] = " 仓库消防通道应当(  )。 "  # spacing and half-width brackets differ
    twin[2], twin[3] = twin[3], twin[2]  # options in another order
    report = import_bank(trade, "y.csv", csv_bytes([*ROWS, ROWS[3], twin]))
    db.session.commit()
    assert report.imported == 2 and _count() == 4
    kinds = sorted((d.question.number, d.of_existing is not None) for d in report.duplicates)
    assert kinds == [(2, True), (3, True), (6, False), (7, True)]


def test_unknown_knowledge_areas_are_problems_unless_creation_is_chosen(trade):
    row = ["单选题", "新题？", "甲", "乙", "", "", "A", "出库作业/出库复核", "", "", ""]
    report = import_bank(trade, "x.csv", csv_bytes([row]))
    assert (
        report.problems[0].field == "知识点" and "出库作业/出库复核" in report.problems[0].message
    )
    report = import_bank(trade, "x.csv", csv_bytes([row]), ImportOptions(create_areas=True))
    db.session.commit()
    assert report.saved and report.new_areas == ["出库作业/出库复核"]
    assert find_area_by_path(trade, "出库作业/出库复核") is not None


def test_a_default_area_serves_questions_that_name_none(trade):
    row = ["单选题", "新题？", "甲", "乙", "", "", "A", "", "", "", ""]
    assert import_bank(trade, "x.csv", csv_bytes([row])).problems[0].field == "知识点"
    report = import_bank(
        trade, "x.csv", csv_bytes([row]), ImportOptions(default_area="入库作业/验收")
    )
    assert report.saved
    assert db.session.scalar(sa.select(Question)).current.area.path == "入库作业/验收"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (["单选题", "两个答案", "甲", "乙", "", "", "AB", "入库作业/验收", "", "", ""], "答案"),
        (["多选题", "一个答案", "甲", "乙", "丙", "", "A", "入库作业/验收", "", "", ""], "答案"),
        (["单选题", "一个选项", "甲", "", "", "", "A", "入库作业/验收", "", "", ""], "选项"),
        (["单选题", "答案没有选项", "甲", "乙", "", "", "D", "入库作业/验收", "", "", ""], "答案"),
        (["单选题", "同样选项", "甲", "甲", "", "", "A", "入库作业/验收", "", "", ""], "选项"),
        (["单选题", "", "甲", "乙", "", "", "A", "入库作业/验收", "", "", ""], "题干"),
        (["单选题", "长" * 2001, "甲", "乙", "", "", "A", "入库作业/验收", "", "", ""], "题干"),
        (["单选题", "长选项", "甲" * 501, "乙", "", "", "A", "入库作业/验收", "", "", ""], "选项A"),
    ],
)
def test_every_rule_names_its_field(trade, row, field):
    report = import_bank(trade, "x.csv", csv_bytes([row]))
    assert not report.saved
    assert report.problems[0].field == field and report.problems[0].number == 2


def test_limits_on_rows(trade, monkeypatch):
    from certify.banks.formats import tabular

    monkeypatch.setattr(tabular, "MAX_QUESTIONS", 3)
    with pytest.raises(UnusableFile, match="more than 3"):
        import_bank(trade, "x.csv", csv_bytes(ROWS))


def test_format_detection_prefers_content(app):
    assert detect_format("renamed.txt", xlsx_bytes(ROWS)) == "xlsx"
    assert detect_format("bank.dat", b'<?xml version="1.0"?><quiz/>') == "moodle_xml"
    assert detect_format("a.txt", csv_bytes(ROWS, "gbk")) == "csv"
    assert detect_format("a.txt", "题目？{=甲 ~乙}".encode()) == "gift"
    assert detect_format("a.txt", "题目？\nA. 甲\nB. 乙\nANSWER: A\n".encode()) == "aiken"
    with pytest.raises(UnusableFile, match="not recognised"):
        detect_format("notes.txt", "随便写的一段话".encode())


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("big.csv", b"x" * (10 * 1024 * 1024 + 1), "10 MB"),
        ("junk.csv", b"\x00\xff" * 2000, "not readable text"),
    ],
)
def test_hostile_files_get_a_clear_error(trade, name, data, message):
    with pytest.raises(UnusableFile, match=message):
        import_bank(trade, name, data)
    assert _count() == 0
