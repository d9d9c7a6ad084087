"""Decoding what an OAG header app receives (lab.headerapp.headers)."""

import base64

from lab.headerapp.headers import decode_base64_text, decode_header, describe


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_bare_base64_authorization_decodes_to_the_username():
    # The article's set_encode_base64 $authzHeader $http_oag_username shape.
    assert decode_header("AUTHORIZATION", b64("asmith")) == "asmith"


def test_basic_credentials_decode_to_user_and_password():
    assert decode_header("Authorization", "Basic " + b64("asmith:s3cret")) == "asmith:s3cret"


def test_unpadded_base64_is_accepted():
    assert decode_base64_text(b64("AliceSmith").rstrip("=")) == "AliceSmith"


def test_non_base64_values_are_not_decoded():
    assert decode_header("Authorization", "Bearer eyJ!!") is None
    assert decode_base64_text("") is None
    assert decode_base64_text(base64.b64encode(b"\x00\xff").decode()) is None


def test_other_headers_are_kept_raw_and_identity_flagged():
    rows = describe([("oag_username", "asmith"), ("Accept", "*/*")])
    assert [(r.name, r.decoded, r.identity) for r in rows] == [
        ("oag_username", None, True),
        ("Accept", None, False),
    ]
