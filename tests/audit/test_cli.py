"""flask audit verify / export: exit codes an operator's cron job can rely on."""

import csv
import io

from openpyxl import load_workbook

from certify.audit.chain import verify_chain
from certify.audit.services import record_event
from certify.core import clock
from certify.extensions import db
from tests.audit.conftest import tamper


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["audit", *args])


def test_verify_prints_ok_and_the_last_hash(app, trail):
    result = _run(app, "verify")
    assert result.exit_code == 0, result.output
    last = verify_chain().last_hash
    assert result.output.strip() == f"OK: 6 entries, chain intact, last hash {last}"


def test_verify_exits_1_where_the_chain_breaks(app, trail):
    tamper("UPDATE audit_events SET actor_username = 'x' WHERE id = :id", id=trail[4])
    result = _run(app, "verify")
    assert result.exit_code == 1
    assert f"entry {trail[4]} was altered" in result.output


def test_verify_with_the_expected_last_hash(app, trail):
    last = verify_chain().last_hash
    assert _run(app, "verify", "--expect-last", last).exit_code == 0
    tamper("DELETE FROM audit_events WHERE id = :id", id=trail[-1])
    assert _run(app, "verify").exit_code == 0
    result = _run(app, "verify", "--expect-last", last)
    assert result.exit_code == 1
    assert "no entry carries the expected last hash" in result.output


def test_export_csv_with_filters(app, subject, tmp_path, frozen_clock):
    record_event("certificate.issued", subject, after={"number": "=1+1"})
    frozen_clock.advance(days=3)
    record_event("certificate.revoked", subject, after={"reason": "错误"})
    record_event("user.updated", subject, after={"name": "王五"})
    db.session.commit()
    out = tmp_path / "trail.csv"
    day = clock.local(clock.now()).date().isoformat()
    result = _run(app, "export", "--from", day, "--to", day, "--action", "certificate", "-o", out)
    assert result.exit_code == 0, result.output
    assert "1 entries written" in result.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "时间（北京时间）", "时间（UTC）"]
    assert [r[5] for r in rows[1:]] == ["certificate.revoked"]
    assert rows[1][9] == '{"reason":"错误"}'


def test_export_xlsx_of_everything(app, trail, tmp_path):
    out = tmp_path / "trail.xlsx"
    result = _run(app, "export", "-o", out)
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 7
    assert [r[0] for r in rows[1:]] == trail
    assert rows[-1][11] == verify_chain().last_hash


def test_export_refuses_an_unknown_format(app, trail, tmp_path):
    result = _run(app, "export", "-o", tmp_path / "trail.pdf")
    assert result.exit_code == 1
    assert ".csv or .xlsx" in result.output
