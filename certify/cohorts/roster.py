"""The roster (花名册) a trainer uploads to enrol a class: xlsx, CSV or tab-separated text.

Pure: bytes in, rows and problems out, no database. Columns follow the Zhejiang
职业技能鉴定 报名数据规范; every problem names its row and column so a trainer can fix
the spreadsheet and upload it again. Rows with a problem are left out of `rows`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from certify.core import clock
from certify.core.idcard import InvalidIdNumber, check_char, normalise_id_number, parse_id_number
from certify.core.tables import ImportProblem, Row, Unit, UnusableFile, clean_cell, read_table

MAX_ROWS = 10_000
MIN_AGE = 16
OLD_AGE = 70  # older than this: a warning, not a problem
MAX_NAME_CHARS = 30
MAX_YEARS = 60
MAX_TEXT_CHARS = {"工作单位": 100, "申报条件": 500}
HEADER_SEARCH_ROWS = 10  # title rows above the header that may be skipped

RESIDENT_ID = "居民身份证"
ID_TYPES = (
    RESIDENT_ID,
    "港澳居民来往内地通行证",
    "台湾居民来往大陆通行证",
    "外国人永久居留身份证",
    "护照",
    "军官证",
    "港澳台居民居住证",
)
ID_TYPE_ALIASES = {
    "身份证": RESIDENT_ID,
    "二代身份证": RESIDENT_ID,
    "港澳通行证": "港澳居民来往内地通行证",
    "回乡证": "港澳居民来往内地通行证",
    "台胞证": "台湾居民来往大陆通行证",
    "外国人永久居留证": "外国人永久居留身份证",
    "永居证": "外国人永久居留身份证",
}
ETHNICITIES = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族",
    "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族",
    "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族",
    "珞巴族", "基诺族", "其他",
)  # fmt: skip
ETHNICITY_ALIASES = {"蒙族": "蒙古族", "维族": "维吾尔族", "其它": "其他"}
EDUCATION_LEVELS = (
    "研究生",
    "大学本科",
    "大学专科",
    "中专",
    "技校",
    "高中",
    "初中",
    "小学",
    "文盲或半文盲",
)
EDUCATION_ALIASES = {
    "硕士": "研究生",
    "博士": "研究生",
    "硕士研究生": "研究生",
    "博士研究生": "研究生",
    "本科": "大学本科",
    "大专": "大学专科",
    "专科": "大学专科",
    "中等专业学校": "中专",
    "技工学校": "技校",
    "普通高中": "高中",
    "文盲": "文盲或半文盲",
    "半文盲": "文盲或半文盲",
}
SOURCES = ("企业", "机关", "社会", "学校", "军队", "其他")
SOURCE_ALIASES = {"其它": "其他", "企业职工": "企业", "社会人员": "社会", "在校学生": "学校"}
GENDER_WORDS = {"男": "男", "男性": "男", "M": "男", "女": "女", "女性": "女", "F": "女"}

# Canonical column → the names accepted in the header row (after cleaning).
COLUMNS = {
    "姓名": ("姓名",),
    "证件类型": ("证件类型",),
    "证件号码": ("证件号码", "身份证号", "身份证号码", "证件号"),
    "性别": ("性别",),
    "民族": ("民族",),
    "文化程度": ("文化程度", "学历"),
    "手机号码": ("手机号码", "手机", "手机号", "联系电话"),
    "工作单位": ("工作单位", "单位"),
    "考生来源": ("考生来源",),
    "申报条件": ("申报条件",),
    "本职业工作年限": ("本职业工作年限", "工作年限", "从业年限"),
}
REQUIRED_COLUMNS = ("姓名", "证件号码", "手机号码")

_BRACKETED = re.compile(r"[（(【\[][^）)】\]]*(?:[）)】\]]|$)")
_NAME_DOTS = re.compile(r"[•・･．]")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_SPACE_NEXT_TO_CJK = re.compile(rf"(?<=[{_CJK}·])\s+|\s+(?=[{_CJK}·])")
_NUMBER_AS_TEXT = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")  # 3.30302E+17, as Excel's CSV has it
_PHONE = re.compile(r"^1[3-9]\d{9}$")
_OTHER_ID = re.compile(r"^[0-9A-Z]{5,20}$")
_YEARS = re.compile(r"^(\d{1,3})(?:\.0+)?\s*年?$")


@dataclass
class RosterRow:
    number: int  # spreadsheet row (1-based, header is usually row 1)
    name: str  # 姓名
    id_type: str  # 证件类型, one of ID_TYPES
    id_number: str  # normalised: upper-case X, no spaces
    gender: str | None  # 男 / 女
    ethnicity: str | None  # 民族, one of ETHNICITIES
    education: str | None  # 文化程度, one of EDUCATION_LEVELS
    phone: str  # 11-digit mainland mobile
    employer: str  # 工作单位
    source: str | None  # 考生来源, one of SOURCES
    basis: str  # 申报条件
    years_in_trade: int | None  # 本职业工作年限
    birth_date: date | None


@dataclass
class RosterResult:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)


def read_roster(filename: str, data: bytes) -> RosterResult:
    """Read a roster; raise UnusableFile only when the file as a whole is unusable."""
    with read_table(filename, data) as sheets:
        return _read_rows(filename, sheets)


# --- rows ---------------------------------------------------------------------------


def read_person(cells: dict[str, object], source: str) -> RosterResult:
    """One person's fields as a registration form gives them (keyed by the roster's column
    names), checked by exactly the rules a roster row is: one set of rules for both ways in.
    Problems name the column and `source` (e.g. 报名表), not a row."""
    columns = {name: i for i, name in enumerate(COLUMNS)}
    raw = [cells.get(name, "") for name in COLUMNS]
    return _RosterReader(source, columns).read(iter([(1, raw)]))


def _header_name(text: str) -> str:
    """'手机号码（必填）' → '手机号码'; '* 姓 名 ＊' → '姓名'."""
    name = _BRACKETED.sub("", unicodedata.normalize("NFKC", text))
    return re.sub(r"\s+", "", name).strip("*")


def _header_map(cells: list[str]) -> dict[str, int]:
    names = [_header_name(c) for c in cells]
    mapping: dict[str, int] = {}
    for canonical, aliases in COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                mapping[canonical] = i
                break
    return mapping


def _find_header(rows: Iterator[Row]) -> dict[str, int] | None:
    """The columns of the header: the first non-empty row, passing over single-cell rows
    above it (a title such as '2026年电工培训班花名册'). None when the sheet is empty."""
    first: dict[str, int] | None = None
    for seen, (_number, raw) in enumerate(_non_empty(rows), start=1):
        cells = [clean_cell(c) for c in raw]
        mapping = _header_map(cells)
        if first is None:
            first = mapping
        if sum(1 for c in cells if c) > 1 or seen >= HEADER_SEARCH_ROWS:
            return mapping
    return first


def _non_empty(rows: Iterator[Row]) -> Iterator[Row]:
    return ((number, raw) for number, raw in rows if any(clean_cell(c) for c in raw))


def _read_rows(filename: str, sheets: Iterable[Iterator[Row]]) -> RosterResult:
    """Read the first visible sheet whose header has the required columns (workbooks from
    WPS often start with a 填表说明 sheet); the first sheet's header names what is missing."""
    first_header: dict[str, int] | None = None
    for rows in sheets:
        if not getattr(rows, "visible", True):
            continue  # a hidden sheet (last year's copy, lookup lists) is never read
        columns = _find_header(rows)
        if columns is None:
            continue
        if all(name in columns for name in REQUIRED_COLUMNS):
            return _RosterReader(filename, columns).read(_non_empty(rows))
        if first_header is None:
            first_header = columns
    if first_header is None:
        raise UnusableFile(filename, _("The file has no rows."))
    missing = [name for name in REQUIRED_COLUMNS if name not in first_header]
    raise UnusableFile(
        filename,
        _(
            "The first row must hold the column names; missing: %(names)s. "
            "Add these columns and upload the file again.",
            names="、".join(missing),
        ),
    )


@dataclass
class _RowCells:
    """One spreadsheet row read by column name, and what is wrong with it: every problem
    and warning names its row and column, so the trainer can find the cell to fix."""

    filename: str
    number: int
    raw: list[object]
    columns: dict[str, int]
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)

    def raw_cell(self, name: str) -> object:
        index = self.columns.get(name)
        return self.raw[index] if index is not None and index < len(self.raw) else None

    def cell(self, name: str) -> str:
        return clean_cell(self.raw_cell(name))

    def problem(self, name: str, message: str) -> None:
        self.problems.append(ImportProblem(self.filename, self.number, Unit.ROW, name, message))

    def warning(self, name: str, message: str) -> None:
        self.warnings.append(ImportProblem(self.filename, self.number, Unit.ROW, name, message))


class _RosterReader:
    def __init__(self, filename: str, columns: dict[str, int]):
        self.filename = filename
        self.columns = columns
        self.today = clock.local(clock.now()).date()
        self.result = RosterResult()
        self.id_rows: dict[str, int] = {}
        self.phone_rows: dict[str, int] = {}

    def read(self, rows: Iterator[Row]) -> RosterResult:
        for count, (number, raw) in enumerate(rows, start=1):
            if count > MAX_ROWS:
                raise UnusableFile(
                    self.filename,
                    _(
                        "The roster has more than %(n)d rows; split it into several files.",
                        n=MAX_ROWS,
                    ),
                )
            self._read_row(number, raw)
        return self.result

    # One row ------------------------------------------------------------------------

    def _read_row(self, number: int, raw: list[object]) -> None:
        """Check the row's cells, then the row against the earlier ones; only a row with
        no problem is enrolled, but its warnings and problems are all reported."""
        cells = _RowCells(self.filename, number, raw, self.columns)
        row = self._row_from_cells(cells)
        self._check_repeats(cells, row.id_number, row.phone)
        self.result.problems.extend(cells.problems)
        self.result.warnings.extend(cells.warnings)
        if cells.problems:
            return
        self.result.rows.append(row)

    def _row_from_cells(self, cells: _RowCells) -> RosterRow:
        """Each column checked on its own; a row with problems is built too, never kept."""
        problem = cells.problem
        name = self._check_name(cells.cell("姓名"), problem)
        id_type = self._check_id_type(cells.cell("证件类型"), problem)
        id_number, resident = self._check_id_number(cells.raw_cell("证件号码"), id_type, problem)
        birth_date = resident.birth_date if resident else None
        if birth_date is not None:
            self._check_age(birth_date, problem, cells.warning)
        gender = self._check_gender(cells.cell("性别"), resident, problem)
        ethnicity = self._optional_choice(cells.cell("民族"), "民族", ETHNICITIES, problem)
        education = self._optional_choice(
            cells.cell("文化程度"), "文化程度", EDUCATION_LEVELS, problem
        )
        source = self._optional_choice(cells.cell("考生来源"), "考生来源", SOURCES, problem)
        phone = self._check_phone(cells.cell("手机号码"), problem)
        years = self._check_years(cells.cell("本职业工作年限"), problem)
        employer, basis = cells.cell("工作单位"), cells.cell("申报条件")
        self._check_lengths({"工作单位": employer, "申报条件": basis}, problem)
        return RosterRow(
            number=cells.number,
            name=name,
            id_type=id_type,
            id_number=id_number,
            gender=gender,
            ethnicity=ethnicity,
            education=education,
            phone=phone,
            employer=employer,
            source=source,
            basis=basis,
            years_in_trade=years,
            birth_date=birth_date,
        )

    def _check_repeats(self, cells: _RowCells, id_number: str | None, phone: str | None) -> None:
        """A person is enrolled once (a problem); a shared phone may be a family's (a warning).
        The first row to carry a number keeps it, whatever else is wrong with that row."""
        number = cells.number
        if id_number:
            earlier = self.id_rows.setdefault(id_number, number)
            if earlier != number:
                cells.problem(
                    "证件号码",
                    _(
                        "The same ID number is already on row %(row)d; enrol each person once.",
                        row=earlier,
                    ),
                )
        if phone:
            earlier = self.phone_rows.setdefault(phone, number)
            if earlier != number:
                cells.warning(
                    "手机号码",
                    _(
                        "The same phone number is on row %(row)d; fine for a family, "
                        "otherwise check it.",
                        row=earlier,
                    ),
                )

    def _check_age(self, birth_date: date, problem, warning) -> None:
        """Too young is a problem; very old is more likely a typo in the number, so a warning."""
        age = _age(birth_date, self.today)
        if age < MIN_AGE:
            problem(
                "证件号码",
                _(
                    "Born %(date)s, so %(age)d years old; workers must be at least %(min)d.",
                    date=birth_date.isoformat(),
                    age=age,
                    min=MIN_AGE,
                ),
            )
        elif age > OLD_AGE:
            warning(
                "证件号码",
                _(
                    "Born %(date)s, so %(age)d years old; check that the number is right.",
                    date=birth_date.isoformat(),
                    age=age,
                ),
            )

    # One cell -----------------------------------------------------------------------

    @staticmethod
    def _check_name(text: str, problem) -> str:
        name = _normalise_name(text)
        if not name:
            problem("姓名", _("Fill in the name."))
        elif len(name) > MAX_NAME_CHARS:
            problem("姓名", _("The name is longer than %(n)d characters.", n=MAX_NAME_CHARS))
        elif not all(c.isalpha() or c in "· " for c in name):
            problem(
                "姓名",
                _("A name has only letters, Chinese characters, · and spaces; remove the rest."),
            )
        return name

    @staticmethod
    def _check_id_type(text: str, problem) -> str | None:
        """An empty cell means the resident ID card, as nearly every worker has one."""
        id_type: str | None = RESIDENT_ID
        if text:
            id_type = _lookup(text, ID_TYPES, ID_TYPE_ALIASES)
        if id_type is None:
            problem("证件类型", _("Write one of: %(values)s.", values="、".join(ID_TYPES)))
        return id_type

    def _check_id_number(self, raw: object, id_type: str | None, problem):
        """(normalised number or None when unusable, parsed resident ID or None)."""
        column = "证件号码"
        text = _unquote(unicodedata.normalize("NFKC", clean_cell(raw)))
        value = normalise_id_number(text)
        if not value:
            problem(column, _("Fill in the ID number."))
            return None, None
        # A float holds about 16 digits, so an 18-digit number typed into Excel has lost its
        # last ones, even when what is left happens to pass the check digit; Excel's CSV
        # writes it as 3.30302E+17.
        if (isinstance(raw, float) and len(value) >= 15) or _NUMBER_AS_TEXT.match(value):
            problem(column, _number_lost_digits())
            return None, None
        if id_type == RESIDENT_ID:
            try:
                return value, parse_id_number(value)
            except InvalidIdNumber as exc:
                reason = str(exc)
            problem(column, _invalid_resident_id(raw, value, reason))
            return None, None
        if not _OTHER_ID.match(value):
            problem(column, _("This document number must be 5 to 20 letters or digits."))
            return None, None
        return (value if id_type is not None else None), None

    @staticmethod
    def _check_lengths(texts: dict[str, str], problem) -> None:
        for column, value in texts.items():
            if len(value) > MAX_TEXT_CHARS[column]:
                problem(
                    column,
                    _("The cell is longer than %(n)d characters.", n=MAX_TEXT_CHARS[column]),
                )

    @staticmethod
    def _check_gender(text: str, resident, problem) -> str | None:
        from_id = None
        if resident is not None:
            from_id = "男" if resident.sex == "male" else "女"
        if not text:
            return from_id
        gender = GENDER_WORDS.get(unicodedata.normalize("NFKC", text).strip().upper())
        if gender is None:
            problem("性别", _("Write 男 or 女."))
            return None
        if from_id is not None and gender != from_id:
            problem(
                "性别",
                _(
                    "The ID number says %(id)s (its 17th digit), but this cell says %(given)s; "
                    "correct one of them.",
                    id=from_id,
                    given=gender,
                ),
            )
            return None
        return gender

    @staticmethod
    def _optional_choice(text: str, column: str, allowed: tuple[str, ...], problem) -> str | None:
        if not text:
            return None
        aliases = {"民族": ETHNICITY_ALIASES, "文化程度": EDUCATION_ALIASES}.get(
            column, SOURCE_ALIASES
        )
        value = _lookup(text, allowed, aliases, suffix="族" if column == "民族" else "")
        if value is None:
            problem(column, _("Write one of: %(values)s.", values="、".join(allowed)))
        return value

    @staticmethod
    def _check_phone(text: str, problem) -> str | None:
        if not text:
            problem("手机号码", _("Fill in the mobile phone number."))
            return None
        value = re.sub(r"[\s\-－—]", "", _unquote(unicodedata.normalize("NFKC", text)))
        if value.startswith("+86"):
            value = value[3:]
        elif value.startswith("86") and len(value) == 13:
            value = value[2:]
        if not _PHONE.match(value):
            problem(
                "手机号码",
                _("A mobile number has 11 digits and starts with 13 to 19, e.g. 13812345678."),
            )
            return None
        return value

    @staticmethod
    def _check_years(text: str, problem) -> int | None:
        if not text:
            return None
        match = _YEARS.match(unicodedata.normalize("NFKC", text))
        if match is None or int(match.group(1)) > MAX_YEARS:
            problem(
                "本职业工作年限",
                _("Write whole years from 0 to %(n)d, e.g. 3.", n=MAX_YEARS),
            )
            return None
        return int(match.group(1))


# --- helpers ------------------------------------------------------------------------


def _number_lost_digits() -> str:
    return _(
        "The ID number was stored as a number in Excel and lost digits; "
        "format the column as text and type it again."
    )


def _invalid_resident_id(raw: object, value: str, reason: str) -> str:
    """What to tell the trainer about a resident ID number that does not parse, by the
    likeliest cause: Excel's lost digits first, as no retyping of the shape would fix it."""
    typed_as_number = isinstance(raw, int) and not isinstance(raw, bool)
    if (typed_as_number and len(value) >= 15) or (
        reason == "check_digit" and value.endswith("000")
    ):
        # Excel keeps 15 significant digits: 330302199001011234 → …011000
        return _number_lost_digits()
    if reason == "shape" and len(value) != 18:
        return _(
            "An ID number has 18 characters, this one has %(n)d; check it.",
            n=len(value),
        )
    if reason == "shape":
        return _(
            "An ID number is 17 digits followed by a digit or X; "
            "check for letters or other characters."
        )
    if reason == "check_digit":
        return _(
            "The ID number does not add up: given the first 17 digits the last "
            "character should be %(char)s. Check the number against the ID card.",
            char=check_char(value[:17]),
        )
    return _(
        "The birth date in the ID number (%(digits)s) is impossible; check the number.",
        digits=value[6:14],
    )


def _normalise_name(text: str) -> str:
    """Dots as people type them become ·; spaces used to line up Chinese names go."""
    name = _NAME_DOTS.sub("·", text.replace("\u3000", " "))
    name = _SPACE_NEXT_TO_CJK.sub("", name)
    return re.sub(r"\s+", " ", name).strip()


def _unquote(text: str) -> str:
    """'330… and ="330…" are tricks to keep Excel from turning a number into 3.3E+17."""
    match = re.fullmatch(r'=?"(.*)"', text)
    if match:
        text = match.group(1)
    return text.lstrip("'`").strip()


def _lookup(
    text: str, allowed: tuple[str, ...], aliases: dict[str, str], suffix: str = ""
) -> str | None:
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if value in allowed:
        return value
    if value in aliases:
        return aliases[value]
    if suffix and value + suffix in allowed:
        return value + suffix
    return None


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
