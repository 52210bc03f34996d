"""Each package anchors the audit trail; `audit verify --against PACKAGE.zip` holds it to it."""

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from certify.accounts.models import Role
from certify.audit.chain import verify_chain
from certify.audit.models import AuditEvent
from certify.certificates.signing import b64url, jwks, public_key_from, sign_bytes, unb64url
from certify.endorsement import services
from certify.endorsement.package import MANIFEST, _canonical
from certify.extensions import db
from tests.audit.conftest import rewrite_trail
from tests.factories import make_user


@pytest.fixture
def admin(app):
    return make_user(Role.ADMIN, username="office")


@pytest.fixture
def reviewer(app):
    return make_user(Role.HR, username="hr1")


@pytest.fixture
def package(certificate, admin, tmp_path):
    """A batch as the bureau received it, written where an operator would keep it."""
    batch = services.submit_batch([certificate], admin)
    db.session.commit()
    path = tmp_path / f"{batch.reference}.zip"
    path.write_bytes(services.read_package(batch))
    return path


def _manifest(path):
    return json.loads(zipfile.ZipFile(path).read(MANIFEST))


def _entries():
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def _verify(app, *args):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def test_the_manifest_anchors_the_head_and_the_decision_signs_it(package, reviewer):
    head = _manifest(package)["audit_head"]
    batch = db.session.scalar(sa.select(services.EndorsementBatch))
    entries = _entries()
    submitted = next(e for e in entries if e.action == "batch.submitted")
    anchored = next(e for e in entries if e.id == head["id"])
    # The head is the newest entry when the package was signed: the certificate's own
    # certificate.submitted; only the batch's entry (which names the package) comes after.
    assert anchored.action == "certificate.submitted" and anchored.hash == head["hash"]
    assert next(e for e in entries if e.id > head["id"]) is submitted
    assert (batch.audit_head_id, batch.audit_head_hash) == (head["id"], head["hash"])
    assert submitted.after["audit_head"] == {"id": head["id"], "hash": head["hash"]}

    (item,) = services.decide_batch(batch, reviewer, services.Decisions(endorse_all=True))
    db.session.commit()
    signed = json.loads(services.decision_payload(item).split(b"\n", 1)[1])
    assert signed["audit_head"] == {"id": head["id"], "hash": head["hash"]}
    key = public_key_from(jwks()["keys"][0]["x"])
    key.verify(unb64url(item.decision_signature), services.decision_payload(item))
    decided = [e for e in _entries() if e.action in ("certificate.endorsed", "batch.decided")]
    assert [e.after["audit_head"]["hash"] for e in decided] == [head["hash"]] * 2


def test_verify_against_a_clean_trail_with_entries_after_the_anchor(app, package, reviewer):
    batch = db.session.scalar(sa.select(services.EndorsementBatch))
    services.decide_batch(batch, reviewer, services.Decisions(endorse_all=True))
    db.session.commit()
    result = _verify(app, "--against", str(package))
    assert result.exit_code == 0, result.output
    head = _manifest(package)["audit_head"]
    first, second = result.output.strip().splitlines()
    assert first == verify_chain().describe()
    assert second == (
        f"OK against {package.name} (batch {batch.reference}, anchored head: entry "
        f"{head['id']}, hash {head['hash']}): the trail up to that entry is as anchored"
    )


def test_a_rewritten_trail_passes_plain_verify_but_not_the_anchor(app, package):
    target = next(e for e in _entries() if e.action == "certificate.issued")

    def edit(rows):
        row = next(r for r in rows if r["id"] == target.id)
        row["after"] = {**row["after"], "number": "ZJ-FORGED"}
        return rows

    rewrite_trail(edit)
    assert _verify(app).exit_code == 0  # the chain alone is fooled
    result = _verify(app, "--against", str(package))
    assert result.exit_code == 1
    assert result.output.startswith("OK: ")  # the chain itself still looks intact
    assert f"BROKEN against {package.name}" in result.output
    assert f"entry {target.id} was changed" in result.output


def test_a_deleted_entry_fails_the_anchor(app, package):
    target = next(e.id for e in _entries() if e.action == "certificate.issued")
    rewrite_trail(lambda rows: [r for r in rows if r["id"] != target])
    assert _verify(app).exit_code == 0
    result = _verify(app, "--against", str(package))
    assert result.exit_code == 1
    assert f"entry {target} was removed" in result.output


def test_an_inserted_entry_fails_the_anchor(app, package):
    first = _entries()[0]

    def edit(rows):
        forged = {**rows[0], "action": "user.updated", "after": {"role": "admin"}}
        return [rows[0], forged, *rows[1:]]

    rewrite_trail(edit, renumber=True)
    assert _verify(app).exit_code == 0
    result = _verify(app, "--against", str(package))
    assert result.exit_code == 1
    assert f"an entry was inserted after entry {first.id}" in result.output


def test_a_broken_chain_and_a_broken_anchor_are_both_reported(app, package):
    target = _entries()[1]
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE audit_events SET actor_username = 'x' WHERE id = :id"),
            {"id": target.id},
        )
    result = _verify(app, "--against", str(package))
    assert result.exit_code == 1
    assert f"BROKEN: entry {target.id} was altered" in result.output
    assert f"entry {target.id} was changed" in result.output


def _rezip(source, tmp_path, manifest):
    out = tmp_path / "forged.zip"
    archive = zipfile.ZipFile(source)
    with zipfile.ZipFile(out, "w") as forged:
        for name in archive.namelist():
            data = json.dumps(manifest) if name == MANIFEST else archive.read(name)
            forged.writestr(name, data)
    return out


def test_a_package_whose_anchor_was_moved_fails_its_signature(app, package, tmp_path):
    manifest = _manifest(package)
    manifest["audit_head"]["hash"] = "0" * 64
    result = _verify(app, "--against", str(_rezip(package, tmp_path, manifest)))
    assert result.exit_code == 2
    assert "the manifest's signature does not match; it cannot vouch for the trail" in (
        result.output
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip", "not a batch package: no readable manifest.json"),
        (b"PK\x03\x04broken", "not a batch package: no readable manifest.json"),
    ],
)
def test_a_file_that_is_not_a_package_is_refused(app, tmp_path, content, message):
    path = tmp_path / "batch.zip"
    path.write_bytes(content)
    result = _verify(app, "--against", str(path))
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_a_package_made_before_anchoring_is_refused(app, package, tmp_path):
    """Packages signed before manifests carried the head are genuine, but vouch for nothing."""
    manifest = {k: v for k, v in _manifest(package).items() if k != "audit_head"}
    key_id, signature = sign_bytes(_canonical(manifest))
    manifest["key_id"], manifest["signature"] = key_id, b64url(signature)
    result = _verify(app, "--against", str(_rezip(package, tmp_path, manifest)))
    assert result.exit_code == 2
    assert "the package carries no audit anchor" in result.output


def test_the_bureau_checks_with_its_own_copy_of_the_keys(app, package, tmp_path):
    saved = tmp_path / "jwks.json"
    saved.write_text(json.dumps(jwks()))
    assert _verify(app, "--against", str(package), "--jwks", str(saved)).exit_code == 0
    saved.write_text(json.dumps({"keys": []}))
    result = _verify(app, "--against", str(package), "--jwks", str(saved))
    assert result.exit_code == 2 and "unknown signing key" in result.output
    saved.write_text("{not json")
    result = _verify(app, "--against", str(package), "--jwks", str(saved))
    assert result.exit_code == 2 and "jwks.json: not a readable key set" in result.output


def test_a_missing_package_is_a_usage_error(app, tmp_path):
    result = _verify(app, "--against", str(tmp_path / "nowhere.zip"))
    assert result.exit_code == 2 and "does not exist" in result.output


def test_the_manifest_of_a_package_is_ours_and_lists_the_anchor_once(package):
    data = package.read_bytes()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(MANIFEST))
    assert set(manifest["audit_head"]) == {"id", "hash", "complete", "checkpoints"}
    assert manifest["audit_head"]["complete"] is True
