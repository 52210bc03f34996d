"""The credential's canonical form is RFC 8785 (JCS), as the eddsa-jcs-2022 proof needs."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certify.certificates import credentials
from certify.certificates.credentials import canonical_json


def first_spelling(value):
    """How credentials were canonicalised before the rfc8785 library (an approximation)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.fixture
def document(certificate):
    return credentials.build_credential(certificate)


def test_a_credential_spells_as_it_did_so_those_already_handed_out_still_verify(document):
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in document["proof"].items() if k != "proofValue"}
    for part in (unsecured, {**options, "@context": document["@context"]}):
        assert canonical_json(part) == first_spelling(part)
    # Chinese text is written as itself in UTF-8, not as \u escapes.
    assert document["issuer"]["name"].encode() in canonical_json(unsecured)
    assert credentials.verify_credential(document)


_ascii_keys = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=8)
_our_values = st.recursive(
    st.none() | st.booleans() | st.text() | st.integers(-(2**53) + 1, 2**53 - 1),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_ascii_keys, inner, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(_ascii_keys, _our_values, max_size=6))
def test_for_the_shapes_we_sign_the_library_agrees_with_the_first_spelling(value):
    assert canonical_json(value) == first_spelling(value)


def test_keys_sort_by_utf16_code_units_where_code_point_order_differs():
    # RFC 8785, 3.2.3: the emoji (surrogates D83D DE00) sorts before U+FB33.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    assert list(json.loads(canonical_json(value)).values()) == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    assert canonical_json(value) != first_spelling(value)


@pytest.mark.parametrize(
    ("number", "jcs"), [(1.0, b"1"), (1e-7, b"1e-7"), (1e21, b"1e+21"), (0.000001, b"0.000001")]
)
def test_numbers_are_spelled_as_ecmascript_does(number, jcs):
    assert canonical_json({"n": number}) == b'{"n":' + jcs + b"}"


@pytest.mark.parametrize("odd", [float("nan"), 2**60, "\ud800", {1: "a key that is a number"}])
def test_a_document_jcs_cannot_spell_does_not_verify_and_does_not_raise(document, odd):
    document["credentialSubject"]["odd"] = odd
    assert credentials.verify_credential(document) is False
