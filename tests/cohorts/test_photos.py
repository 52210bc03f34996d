"""`cohorts photos COHORT_ID PHOTOS.zip`: a roster class's photos, named by ID number."""

import io
import json
import zipfile

from certify.cohorts.photos import import_photos
from certify.cohorts.services import enrol_roster
from certify.extensions import db
from tests.classes import roster_csv, roster_rows
from tests.conftest import in_fresh_context
from tests.factories import photo_bytes


class _GbkInfo(zipfile.ZipInfo):
    """An entry as Windows' own ZIP tool writes it: the name in GBK, no UTF-8 flag."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits


def _zip(files: dict[str, bytes], gbk_names: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(_GbkInfo(name) if gbk_names else zipfile.ZipInfo(name), data)
    return out.getvalue()


def _class(cohort, n=3):
    rows = roster_rows(n, start=300)
    enrol_roster(cohort, "r.csv", roster_csv(rows))
    db.session.commit()
    return [r[2] for r in rows]


def test_photos_named_by_id_number_are_stored_and_a_bad_one_stores_none(app, cohort):
    ids = _class(cohort)
    bad = import_photos(
        cohort,
        "photos.zip",
        _zip({f"{ids[0]}.jpg": photo_bytes(), "330302199001011234.jpg": photo_bytes()}),
    )
    assert not bad.saved and bad.stored == 0 and len(bad.problems) == 1
    assert "330302199001011234" in bad.problems[0]
    assert all(e.photo_id is None for e in cohort.enrolments)
    good = import_photos(
        cohort,
        "photos.zip",
        _zip(
            {
                f"照片/{ids[0]}.jpg": photo_bytes(),
                f"{ids[1].lower()}.PNG": photo_bytes(fmt="PNG"),
                "说明.txt": b"x",
            },
            gbk_names=True,
        ),
    )
    assert good.saved and good.stored == 2 and good.skipped == ["说明.txt"]
    assert len(good.without_photo) == 1
    with_photo = {e.user.id_number for e in cohort.enrolments if e.photo is not None}
    assert with_photo == {ids[0], ids[1]}


def test_the_command_stores_photos_or_says_why_not(app, cohort, tmp_path):
    ids = _class(cohort, 2)
    runner = app.test_cli_runner()
    path = tmp_path / "photos.zip"
    path.write_bytes(_zip({f"{ids[0]}.jpg": b"not a photo"}))
    failed = in_fresh_context(runner.invoke, args=["cohorts", "photos", str(cohort.id), str(path)])
    assert failed.exit_code == 1 and "没有保存照片" in failed.output
    path.write_bytes(_zip({f"{ids[0]}.jpg": photo_bytes(), f"{ids[1]}.jpg": photo_bytes()}))
    done = in_fresh_context(runner.invoke, args=["cohorts", "photos", str(cohort.id), str(path)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output.strip().splitlines()[-1]) == {"stored": 2, "without_photo": 0}
    path.write_bytes(b"PK not a zip")
    broken = in_fresh_context(runner.invoke, args=["cohorts", "photos", str(cohort.id), str(path)])
    assert broken.exit_code == 1 and "ZIP" in broken.output
