import io

import pytest
from openpyxl import Workbook

from certify.catalog.models import CertificateType
from tests.factories import make_trade

HEADER = [
    "题型",
    "题干",
    "选项A",
    "选项B",
    "选项C",
    "选项D",
    "答案",
    "知识点",
    "难度",
    "解析",
    "出处",
]
ROWS = [
    [
        "单选题",
        "仓库消防通道应当（  ）。",
        "堆放少量货物",
        "保持畅通",
        "夜间可以关闭",
        "临时停放叉车",
        "B",
        "安全消防/消防安全",
        "易",
        "消防通道必须时刻保持畅通。",
        "自编",
    ],
    [
        "多选题",
        "商品入库验收的内容包括（  ）。",
        "数量",
        "质量",
        "包装",
        "颜色偏好",
        "A,B、C",
        "入库作业/验收",
        "2",
        "验收核对数量、质量和包装。",
        "",
    ],
    [
        "判断题",
        "验收时发现数量短缺，应先签收再联系供货方。",
        "",
        "",
        "",
        "",
        "×",
        "入库作业/验收",
        "中",
        "应先记录、分开存放，不能随意签收。",
        "",
    ],
    ["判断题", "堆垛时应做到重不压轻。", "", "", "", "", "对", "储存保管/堆码苫垫", "", "", ""],
]
AREAS = ("入库作业/验收", "安全消防/消防安全", "储存保管/堆码苫垫")


def xlsx_bytes(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8", header=HEADER) -> bytes:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def trade(app):
    return make_trade("warehouse-keeper", areas=AREAS)


@pytest.fixture
def special_trade(app):
    return make_trade(
        "electroplater",
        name="电镀工",
        certificate_type=CertificateType.SPECIAL,
        areas=("电镀工艺/镀铬", "电镀工艺/镀镍", "安全防护与三废处理/三废处理"),
    )


@pytest.fixture(autouse=True)
def english():
    """Readers and services speak in the test's own context in English, so assertions
    on messages read plainly; pages (via the client) still answer in Chinese."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield
