"""The portable Open Badges credential, its proof, the issuer profile and the status route."""

import copy
import hashlib

import pytest

from certify.certificates import credentials
from certify.certificates.services import revoke_certificate
from certify.certificates.signing import rotate_keys
from certify.extensions import db


@pytest.fixture
def document(certificate):
    return credentials.build_credential(certificate)


def test_the_credential_verifies_and_has_the_open_badges_shape(app, certificate, document):
    assert credentials.verify_credential(document)
    base = app.config["BASE_URL"]
    assert document["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert document["id"] == f"{base}/certificates/{certificate.number}/credential"
    assert document["issuer"]["id"] == f"{base}/certificates/issuer"
    assert document["credentialStatus"] == {
        "id": f"{base}/certificates/{certificate.number}/status",
        "type": "1EdTechRevocationList",
    }
    assert document["validFrom"].endswith("Z")
    achievement = document["credentialSubject"]["achievement"]
    assert achievement["name"] == f"{certificate.trade_name} {certificate.level_name}"
    assert achievement["achievementType"] == "Certificate"
    assert achievement["criteria"]["narrative"]
    proof = document["proof"]
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["verificationMethod"] == f"{base}/certificates/issuer#{certificate.key_id}"
    assert proof["proofValue"].startswith("z")
    values = [r["value"] for r in document["credentialSubject"]["result"]]
    assert values == ["100.0", "82.0"]  # as printed; strings: JCS and Python agree on them


def test_the_holder_is_identified_only_by_a_salted_hash(certificate, document):
    text = str(document)
    assert certificate.id_number not in text
    assert certificate.holder_name not in text
    (identity,) = document["credentialSubject"]["identifier"]
    assert identity["hashed"] is True
    assert identity["identityType"] == "nationalIdentityNumber"
    expected = hashlib.sha256((certificate.id_number + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert "*" in document["credentialSubject"]["name"]


@pytest.mark.parametrize(
    "path, value",
    [
        (("credentialSubject", "achievement", "name"), "焊工 一级/高级技师"),
        (("validFrom",), "2020-01-01T00:00:00Z"),
        (("credentialSubject", "identifier", 0, "salt"), "00"),
        (("proof", "created"), "2020-01-01T00:00:00Z"),
        (("issuer", "name"), "某某评价中心"),
    ],
)
def test_a_changed_field_breaks_the_proof(document, path, value):
    changed = copy.deepcopy(document)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not credentials.verify_credential(changed)


def test_malformed_documents_are_refused_without_errors(document):
    assert not credentials.verify_credential(None)
    assert not credentials.verify_credential({})
    assert not credentials.verify_credential({**document, "proof": "x"})
    for key, value in [
        ("proofValue", "not-multibase"),
        ("proofValue", "z0OIl"),
        ("proofValue", None),
        ("verificationMethod", "https://elsewhere.example/issuer#k1"),
        ("cryptosuite", "eddsa-rdfc-2022"),
    ]:
        broken = copy.deepcopy(document)
        broken["proof"][key] = value
        assert not credentials.verify_credential(broken), key


def test_it_verifies_with_the_published_profile_alone(app, client, document):
    profile = client.get("/certificates/issuer").get_json()
    keys = credentials.keys_from_profile(profile)
    assert credentials.verify_credential(document, keys=keys)
    assert not credentials.verify_credential(document, keys={})


def test_the_issuer_profile_lists_every_key_after_a_rotation(app, client, document, signing_key):
    new, old = rotate_keys()
    db.session.commit()
    response = client.get("/certificates/issuer")
    assert response.status_code == 200
    profile = response.get_json()
    base = app.config["BASE_URL"]
    assert profile["id"] == f"{base}/certificates/issuer"
    assert profile["type"] == ["Profile"]
    assert profile["name"] == app.config["ISSUER_NAME"]
    ids = [m["id"] for m in profile["verificationMethod"]]
    assert ids == [f"{base}/certificates/issuer#{k}" for k in (old.key_id, new.key_id)]
    for method in profile["verificationMethod"]:
        assert method["type"] == "Multikey"
        assert method["publicKeyMultibase"].startswith("z6Mk")  # Ed25519 multikeys read so
    # Signed before the rotation, still good after it; new credentials use the new key.
    assert credentials.verify_credential(document)
    assert credentials.verify_credential(document, keys=credentials.keys_from_profile(profile))


def test_new_credentials_name_the_new_key(certificate, signing_key):
    new, _old = rotate_keys()
    db.session.commit()
    document = credentials.build_credential(certificate)
    assert document["proof"]["verificationMethod"].endswith(f"#{new.key_id}")
    assert credentials.verify_credential(document)


def test_the_status_endpoint_flips_to_revoked(client, certificate, document):
    url = document["credentialStatus"]["id"].split("localhost", 1)[-1]
    url = url[url.index("/certificates/") :]
    before = client.get(url)
    assert before.status_code == 200
    body = before.get_json()
    assert body["revoked"] is False and body["revokedCredentials"] == []
    assert body["id"] == document["credentialStatus"]["id"]
    revoke_certificate(certificate.number, "考试作弊，经查属实", code="improperly_obtained")
    db.session.commit()
    after = client.get(url).get_json()
    assert after["revoked"] is True and after["status"] == "revoked"
    # The public reads the fixed reason; the office's note stays internal.
    assert after["reason"] == "违规取得" and after["reason_code"] == "improperly_obtained"
    assert after["revokedCredentials"] == [{"id": document["id"], "revocationReason": "违规取得"}]
    assert "考试作弊" not in str(after)
    assert certificate.id_number not in str(after) and certificate.holder_name not in str(after)


def test_the_status_of_an_unknown_number_is_a_json_404(client):
    response = client.get("/certificates/NOSUCH0001/status")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
