"""The one reader of uploaded tables (certify.core.tables.read_table): rows numbered as Excel
shows them, the file-level refusals, and the reading errors met inside the `with` block."""

import io
import re
import zipfile

import pytest
from openpyxl import Workbook

from certify.core.tables import UnusableFile, read_table


def _workbook(*rows_at: tuple[int, list]) -> bytes:
    workbook = Workbook()
    for row, values in rows_at:
        for column, value in enumerate(values, start=1):
            workbook.active.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rows(filename, data, kind=None):
    with read_table(filename, data, kind) as sheets:
        return [list(sheet) for sheet in sheets]


def test_workbook_rows_keep_the_numbers_excel_shows():
    data = _workbook((1, ["证件号码", "分数"]), (4, ["330302199001011234", 90]))
    (sheet,) = _rows("scores.xlsx", data)
    assert [number for number, _cells in sheet] == [1, 2, 3, 4]
    assert sheet[0][1] == ["证件号码", "分数"]
    assert not any(sheet[1][1]) and not any(sheet[2][1])
    assert sheet[3][1] == ["330302199001011234", 90]


def test_csv_rows_are_numbered_with_the_blank_ones_counted():
    (sheet,) = _rows("scores.csv", "证件号码,分数\n\n330302199001011234,90\n".encode())
    assert sheet == [(1, ["证件号码", "分数"]), (2, []), (3, ["330302199001011234", "90"])]


def test_tab_separated_text_is_read_by_its_tabs():
    (sheet,) = _rows("scores.txt", "证件号码\t分数\n330302199001011234\t90\n".encode("gb18030"))
    assert sheet[1] == (2, ["330302199001011234", "90"])


def test_a_stated_size_larger_than_the_sheet_is_not_believed():
    data = _workbook((1, ["a", "b"]), (2, ["c", "d"]))
    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == "xl/worksheets/sheet1.xml":
                content, found = re.subn(
                    rb'<dimension ref="[^"]*"', b'<dimension ref="A1:Z5000"', content
                )
                assert found == 1
            target.writestr(entry, content)
    (sheet,) = _rows("big.xlsx", buffer.getvalue())
    assert sheet == [(1, ["a", "b"]), (2, ["c", "d"])]  # not 26 cells a row, nor 5000 rows


def test_every_sheet_of_a_workbook_is_there_in_order():
    workbook = Workbook()
    workbook.active.append(["填表说明"])
    workbook.create_sheet("花名册").append(["姓名", "证件号码"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    first, second = _rows("roster.xlsx", buffer.getvalue())
    assert first == [(1, ["填表说明"])] and second == [(1, ["姓名", "证件号码"])]


def test_the_bytes_decide_unless_the_caller_names_the_format():
    data = _workbook((1, ["a"]))
    assert _rows("renamed.csv", data) == [[(1, ["a"])]]
    with pytest.raises(UnusableFile, match="不是可读的文本"):  # "not readable text"
        _rows("renamed.csv", data, "csv")
    with pytest.raises(UnusableFile, match="不是可读的 Excel"):  # "not a readable Excel"
        _rows("table.xlsx", b"a,b\n1,2\n", "xlsx")


def test_an_old_excel_file_is_refused_with_what_to_do():
    with pytest.raises(UnusableFile, match=r"旧版 Excel（\.xls）"):
        _rows("scores.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512))


def test_a_file_over_10_mb_is_refused_whatever_it_is():
    for kind in (None, "csv", "xlsx"):
        with pytest.raises(UnusableFile, match="10 MB"):
            _rows("big.csv", b"a" * (10 * 1024 * 1024 + 1), kind)


def test_a_workbook_openpyxl_cannot_open_is_refused_not_a_server_error():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "not xml")
        archive.writestr("xl/workbook.xml", "not xml either")
    with pytest.raises(UnusableFile, match="不是可读的 Excel") as refused:
        _rows("broken.xlsx", buffer.getvalue())
    assert refused.value.filename == "broken.xlsx"


def test_an_error_while_the_rows_are_read_names_the_file_not_a_traceback():
    data = _workbook((1, ["a"]), (2, ["b"]))
    with (
        pytest.raises(UnusableFile, match="不是可读的 Excel"),
        read_table("t.xlsx", data) as (sheet,),
    ):
        for _row in sheet:
            raise KeyError("openpyxl broke half way")


def test_a_csv_line_the_csv_module_cannot_read_is_named():
    data = b"a,b\n" + b"x" * 200_000 + b",1\n"  # longer than the csv module's field limit
    with pytest.raises(UnusableFile, match="文件第 2 行读不出来"):  # "line 2 of the file"
        _rows("scores.csv", data)
    with pytest.raises(UnusableFile, match="CSV 第 2 行读不出来"):  # the bank named it CSV
        _rows("bank.csv", data, "csv")
