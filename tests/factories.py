"""make_* factories that build state through the same services the app uses."""

from __future__ import annotations

import io
import itertools
import random
from datetime import date

from PIL import Image

from certify.accounts.models import Role, User
from certify.accounts.services import UserData, create_user
from certify.catalog.models import CertificateType, Trade
from certify.catalog.services import TradeData, create_trade, ensure_area_path
from certify.core.idcard import make_id_number
from certify.extensions import db

PASSWORD = "correct-horse-7"
_counter = itertools.count(1)


def make_id(sequence: int | None = None, born: date = date(1988, 3, 14)) -> str:
    return make_id_number(
        "330302", born, sequence if sequence is not None else next(_counter) % 1000
    )


def make_user(
    role: Role = Role.WORKER,
    *,
    username: str | None = None,
    password: str = PASSWORD,
    name: str = "",
    id_number: str | None = None,
    must_change_password: bool = False,
    trades: tuple[str, ...] = (),
    active: bool = True,
    commit: bool = True,
) -> User:
    n = next(_counter)
    user = create_user(
        UserData(
            username=username or f"{role.value}{n}",
            role=role,
            name=name or f"测试{role.value}{n}",
            id_number=id_number,
            trade_codes=trades,
            active=active,
        ),
        password,
        must_change_password=must_change_password,
    )
    if commit:
        db.session.commit()
    return user


def make_trade(
    code: str | None = None,
    *,
    name: str = "仓库保管员",
    certificate_type: CertificateType = CertificateType.LEVEL,
    levels: tuple[int, ...] = (5, 4),
    areas: tuple[str, ...] = ("入库作业/验收", "入库作业/入库手续", "储存保管/堆码苫垫"),
    commit: bool = True,
) -> Trade:
    if certificate_type is CertificateType.SPECIAL:
        levels = ()
    trade = create_trade(
        TradeData(
            code=code or f"trade-{next(_counter)}",
            name=name,
            certificate_type=certificate_type,
            levels=list(levels),
        )
    )
    for path in areas:
        ensure_area_path(trade, path)
    if commit:
        db.session.commit()
    return trade


def photo_bytes(
    width: int = 600,
    height: int = 800,
    fmt: str = "JPEG",
    exif_turn: int | None = None,
) -> bytes:
    """A noisy picture, as a phone's photo would be (a flat one is refused as blank)."""
    rng = random.Random(width * height)
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for y in range(0, height, 4):
        for x in range(0, width, 4):
            shade = (rng.randrange(256), rng.randrange(256), min(255, y * 255 // height))
            for dy in range(4):
                for dx in range(4):
                    if x + dx < width and y + dy < height:
                        pixels[x + dx, y + dy] = shade
    out = io.BytesIO()
    if exif_turn is not None:
        exif = Image.Exif()
        exif[0x0112] = exif_turn  # Orientation
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()
