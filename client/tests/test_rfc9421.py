"""RFC 9421 Appendix B.2.6 (ed25519 over a request): the offline signature base and the
library configuration the client signs with reproduce the RFC's published signature."""

import base64
import datetime as dt
from dataclasses import dataclass

from credit_gateway_client.verify_export import signature_base
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageVerifier, algorithms

# Appendix B.1.4: the RFC's test key (testing only), as the JWK's "d".
SEED = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU="
COMPONENTS = [
    ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
    ("@method", "POST"),
    ("@path", "/foo"),
    ("@authority", "example.com"),
    ("content-type", "application/json"),
    ("content-length", "18"),
]
SIGNATURE_INPUT = (
    '("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)


def key():
    return Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(SEED))


def test_the_offline_signature_base_reproduces_the_rfc_signature():
    base = signature_base(COMPONENTS, SIGNATURE_INPUT)
    assert base64.b64encode(key().sign(base)).decode() == SIGNATURE
    key().public_key().verify(base64.b64decode(SIGNATURE), base)


@dataclass
class Request:
    method: str
    url: str
    headers: dict


class Keys:
    def resolve_public_key(self, key_id):
        assert key_id == "test-key-ed25519"
        return key().public_key()


def test_the_signing_library_verifies_the_rfc_request():
    request = Request(
        "POST",
        "https://example.com/foo?param=Value&Pet=dog",
        {
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Length": "18",
            "Signature-Input": f"sig-b26={SIGNATURE_INPUT}",
            "Signature": f"sig-b26=:{SIGNATURE}:",
        },
    )
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=Keys())
    verifier.max_clock_skew = dt.timedelta(days=365 * 100)
    (result,) = verifier.verify(request, max_age=None)
    assert result.parameters["keyid"] == "test-key-ed25519"
