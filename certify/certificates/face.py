"""The certificate's face: what the page prints, built from the signed fields, and read back.

The page (templates/certificates/certificate.html) is rendered from `printed_face(material)`,
where `material` is the version-2 payload the signature covers, so every printed field is a
signed field by construction. `certificates verify` reads the PDF's text back with
`compare_face` and names any printed field that differs from the signed one: a genuine
payload attached under an edited score, or under another person's page, is refused.

Reading relies on the text layer: labels in a fixed order, each exactly once. A PDF whose
text cannot be read that way is not taken as matching. What the text layer cannot show (a
value drawn as outlines over hidden genuine text) only the file's SHA-256 against the
register catches; the verify command says so when the register is out of reach.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date

from certify.core.masking import mask_id_number, mask_name

NO_VALUE = "--"  # printed where a field has no value (工种/职业方向 until the catalogue has one)
TITLES = {
    "level": ("职业技能等级证书", "VOCATIONAL SKILL LEVEL CERTIFICATE"),
    "special": ("专项职业能力证书", "SPECIAL VOCATIONAL ABILITY CERTIFICATE"),
}
THEORY, PRACTICAL = "理论知识", "操作技能"
SIDE_SCAN = "手机扫码查验真伪及备案状态"
SIDE_SCAN_EN = "Scan to verify"
SEAL = "评价机构（盖章）"
FOOTER_START = "证书查询"

# Each printed field in words, for the verify command's lines (Chinese, English key word).
FIELD_NAMES = {
    "certificate_type": "证书类型 certificate type",
    "holder": "姓名 name",
    "id_type": "证件类型 ID type",
    "id_number": "证件号码 ID number",
    "trade": "职业名称 occupation",
    "work_type": "工种/职业方向 type of work",
    "level": "职业技能等级 level",
    "theory": "理论知识成绩 theory score",
    "practical": "操作技能成绩 practical score",
    "number": "证书编号 number",
    "issued_on": "发证日期 date of issue",
    "issuer": "评价机构 issuer",
    "layout": "版面 layout",
}


@dataclass(frozen=True)
class Row:
    label: str
    english: str
    value: str


@dataclass(frozen=True)
class Face:
    """Everything the page prints, as text, in the order it is printed."""

    certificate_type: str
    title: str
    english_title: str
    holder: str
    level: str
    trade: str
    rows: tuple[Row, ...]
    number: str
    issuer: str


@dataclass(frozen=True)
class Mismatch:
    """One printed field that is not what was signed (`printed` None: not found at all)."""

    field: str
    signed: str | None
    printed: str | None

    def line(self) -> str:
        """A line for the person at the counter; personal data masked as everywhere."""
        signed, printed = self.signed, self.printed
        if self.field == "holder":
            signed, printed = _masked(signed, mask_name), _masked(printed, mask_name)
        elif self.field == "id_number":
            signed, printed = _masked(signed, mask_id_number), _masked(printed, mask_id_number)
        name = FIELD_NAMES.get(self.field, self.field)
        if self.field == "layout":
            return f"{name}：{printed}"
        return (
            f"{name}：证书上印的是 printed「{printed or '—'}」，签名的是 signed「{signed or '—'}」"
        )


def _masked(value: str | None, mask) -> str | None:
    return mask(value) if value else value


def printed_date(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"


def printed_scores(material: dict) -> str:
    parts = []
    if material.get("theory") is not None:
        parts.append(f"{THEORY} {material['theory']}")
    if material.get("practical") is not None:
        parts.append(f"{PRACTICAL} {material['practical']}")
    return "\u3000".join(parts)


def printed_face(material: dict) -> Face:
    """The page of a version-2 payload (Certificate.material(2))."""
    kind = material["certificate_type"] if material["certificate_type"] in TITLES else "level"
    title, english = TITLES[kind]
    level_label = ("职业技能等级", "Skill level") if kind == "level" else ("能力项目", "Ability")
    rows = (
        Row("姓\u3000\u3000名", "Name", material["holder"]),
        Row("证件类型", "ID type", material["id_type"]),
        Row("证件号码", "ID number", material["id_number"]),
        Row("职业名称", "Occupation", material["trade"]),
        Row("工种/职业方向", "Type of work", material.get("work_type") or NO_VALUE),
        Row(*level_label, material["level"]),
        Row("评价成绩", "Scores", printed_scores(material)),
        Row("证书编号", "Certificate No.", material["number"]),
        Row("发证日期", "Date of issue", printed_date(material["issued_on"])),
    )
    return Face(
        certificate_type=kind,
        title=title,
        english_title=english,
        holder=material["holder"],
        level=material["level"],
        trade=material["trade"],
        rows=rows,
        number=material["number"],
        issuer=material["issuer"],
    )


# --- reading a face back ---------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def _flat(text: str) -> str:
    """Text without any whitespace: extractors differ in where they put spaces and breaks."""
    return _SPACE.sub("", text or "")


_LABELS = (  # (group, label as flattened) in printed order; the level row has two spellings
    ("holder_row", "姓名Name"),
    ("id_type", "证件类型IDtype"),
    ("id_number", "证件号码IDnumber"),
    ("trade_row", "职业名称Occupation"),
    ("work_type", "工种/职业方向Typeofwork"),
    ("level_row", ("职业技能等级Skilllevel", "能力项目Ability")),
    ("scores", "评价成绩Scores"),
    ("number_row", "证书编号CertificateNo."),
    ("issued_on", "发证日期Dateofissue"),
    ("number_side", _flat(SIDE_SCAN + SIDE_SCAN_EN)),
    ("issuer", SEAL),
)
_BODY = {
    "level": re.compile(r"(?P<holder>.+?)经本机构评价，职业技能等级达到(?P<level>.+?)，特发此证。"),
    "special": re.compile(r"(?P<holder>.+?)经考核，具备(?P<trade>.+?)专项职业能力，特发此证。"),
}
_SCORES = re.compile(rf"(?:{THEORY}(?P<theory>.*?))?(?:{PRACTICAL}(?P<practical>.*))?")


def _rows_pattern() -> re.Pattern[str]:
    parts = []
    for group, label in _LABELS:
        labels = label if isinstance(label, tuple) else (label,)
        parts.append("(?:" + "|".join(re.escape(x) for x in labels) + ")")
        parts.append(f"(?P<{group}>.*?)")
    return re.compile("".join(parts) + re.escape(FOOTER_START))


_ROWS = _rows_pattern()


def read_face(text: str) -> tuple[dict[str, list[str | None]] | None, str | None]:
    """The printed values by field (flattened; a field printed twice has two), or why not.

    Returns (values, None) or (None, a plain reason). Every label must be there exactly
    once, in order: a second copy of a label (hidden text, a pasted page) is not guessed at.
    """
    flat = _flat(text)
    kinds = [kind for kind, (title, english) in TITLES.items() if _flat(title + english) in flat]
    if len(kinds) != 1 or flat.count(_flat("".join(TITLES[kinds[0]]))) != 1:
        return None, "读不出证书标题 no certificate title found"
    kind = kinds[0]
    for group, label in _LABELS:
        labels = label if isinstance(label, tuple) else (label,)
        if sum(flat.count(x) for x in labels) != 1:
            return None, f"版面和证书不符 the label of {group} is not printed exactly once"
    after_title = flat.split(_flat("".join(TITLES[kind])), 1)[1]
    body = _BODY[kind].match(after_title)
    rows = _ROWS.search(after_title)
    if body is None or rows is None:
        return None, "版面和证书不符 the page is not laid out as a certificate"
    scores = _SCORES.fullmatch(rows["scores"])
    values: dict[str, list[str | None]] = {
        "certificate_type": [kind],
        "holder": [body["holder"], rows["holder_row"]],
        "id_type": [rows["id_type"]],
        "id_number": [rows["id_number"]],
        "trade": [rows["trade_row"]] + ([body["trade"]] if kind == "special" else []),
        "work_type": [rows["work_type"]],
        "level": [rows["level_row"]] + ([body["level"]] if kind == "level" else []),
        "theory": [scores["theory"] if scores else rows["scores"]],
        "practical": [scores["practical"] if scores else rows["scores"]],
        "number": [rows["number_row"], rows["number_side"]],
        "issued_on": [rows["issued_on"]],
        "issuer": [rows["issuer"]],
    }
    return values, None


def _expected(material: dict) -> dict[str, str | None]:
    """What each signed field must look like on the page, flattened."""
    expected: dict[str, str | None] = {}
    for key, value in material.items():
        if key in ("payload_version", "photo_sha256"):
            continue  # not printed as text (the photo is compared by its own hash)
        if key == "issued_on":
            with contextlib.suppress(TypeError, ValueError):
                value = printed_date(value)
        elif key == "work_type":
            value = value or NO_VALUE
        expected[key] = None if value is None else _flat(str(value))
    return expected


def compare_face(material: dict, text: str) -> list[Mismatch]:
    """Every signed field that the page's text does not show as signed; [] when all match.

    Only the fields `material` carries are compared: a version-1 payload did not sign the
    scores, so nothing can be said about them from the signature.
    """
    values, problem = read_face(text)
    if values is None:
        return [Mismatch("layout", None, problem)]
    mismatches = []
    for key, signed in _expected(material).items():
        for printed in values.get(key, []):
            if printed != signed:
                mismatches.append(Mismatch(key, signed, printed))
                break
    return mismatches
