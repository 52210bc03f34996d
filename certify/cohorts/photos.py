"""A class's photos from one ZIP, each file named by its worker's ID number (考生证照 for a
class imported from a roster, not registered with a photo).

All or nothing: every file is checked (a member of the class? a usable photo?) before any
photo is stored, and each problem names the file. A ZIP is read with limits — entries, each
file's size, the whole — so a crafted archive cannot fill the disk or the memory.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from certify.audit.services import record_event
from certify.cohorts.models import Cohort, Enrolment
from certify.core.blobs import store_blob
from certify.core.idcard import normalise_id_number
from certify.core.photos import PhotoRefused, prepare_photo
from certify.core.tables import UnusableFile
from certify.extensions import db

MAX_ENTRIES = 5000
MAX_FILE_BYTES = 15 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


@dataclass
class PhotosReport:
    filename: str
    stored: int = 0
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not photos: folders, notes, __MACOSX
    without_photo: list[str] = field(default_factory=list)  # names of the class still lacking

    @property
    def saved(self) -> bool:
        return not self.problems and self.stored > 0


def import_photos(
    cohort: Cohort, filename: str, data: bytes, *, dry_run: bool = False, actor=None
) -> PhotosReport:
    report = PhotosReport(filename)
    enrolments = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort.id)
        .options(selectinload(Enrolment.user))
    ).all()  # the class's people in two queries, not one per worker
    by_id = {e.user.id_number: e for e in enrolments if e.user.id_number}
    ready: list[tuple[Enrolment, bytes]] = []
    for name, raw in _entries(filename, data, report):
        id_number = normalise_id_number(PurePosixPath(name).stem)
        enrolment = by_id.get(id_number)
        if enrolment is None:
            report.problems.append(
                _(
                    "%(file)s: nobody in the class has the ID number %(id)s. Name each photo "
                    "by its worker's ID number, e.g. 330302199005120025.jpg.",
                    file=name,
                    id=id_number[:20],
                )
            )
            continue
        try:
            ready.append((enrolment, prepare_photo(raw).jpeg))
        except PhotoRefused as exc:
            report.problems.append(f"{name}: {exc}")
    covered = {e.id for e, _jpeg in ready}
    report.without_photo = sorted(
        e.user.name for e in enrolments if e.photo_id is None and e.id not in covered
    )
    if report.problems or dry_run:
        report.stored = len(ready) if dry_run and not report.problems else 0
        return report
    for enrolment, jpeg in ready:
        enrolment.photo = store_blob(jpeg, "image/jpeg")
    report.stored = len(ready)
    record_event(
        "cohort.photos_imported",
        cohort,
        actor=actor,
        after={"file": filename, "photos": len(ready)},
    )
    return report


def _entries(filename: str, data: bytes, report: PhotosReport):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise UnusableFile(filename, _("This is not a ZIP file.")) from exc
    infos = [i for i in archive.infolist() if not i.is_dir()]
    if len(infos) > MAX_ENTRIES:
        raise UnusableFile(filename, _("The ZIP holds more than %(n)d files.", n=MAX_ENTRIES))
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise UnusableFile(filename, _("The ZIP unpacks to more than 1 GB."))
    for info in infos:
        name = _decoded_name(info)
        path = PurePosixPath(name)
        if path.name.startswith(".") or "__MACOSX" in path.parts:
            continue
        if path.suffix.lower() not in PHOTO_SUFFIXES:
            report.skipped.append(name)
            continue
        if info.file_size > MAX_FILE_BYTES:
            report.problems.append(_("%(file)s: larger than 15 MB.", file=name))
            continue
        yield name, archive.read(info)


def _decoded_name(info: zipfile.ZipInfo) -> str:
    """Windows' ZIP tool writes Chinese names in GBK without saying so (no UTF-8 flag)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename
