"""Twilio callback signatures against Twilio's published vectors."""

from __future__ import annotations

from textopt.providers.http_signatures import twilio_signature, verify_twilio_signature

# Twilio's documented example (its security docs and helper libraries' tests).
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilio_signature_matches_the_published_vector() -> None:
    assert twilio_signature(auth_token="12345", url=URL, params=PARAMS) == SIGNATURE


def test_twilio_repeated_parameters_count_each_distinct_value_once_sorted() -> None:
    params = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]}
    assert twilio_signature(auth_token="12345", url=URL, params=params) == (
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    )


def test_twilio_verification_accepts_the_vector_in_any_parameter_order() -> None:
    reordered = dict(reversed(list(PARAMS.items())))
    assert verify_twilio_signature(
        auth_token="12345", url=URL, params=reordered, signature=SIGNATURE
    )


def test_twilio_verification_accepts_the_url_with_or_without_its_default_port() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert verify_twilio_signature(
        auth_token="12345", url=with_port, params=PARAMS, signature=SIGNATURE
    )
    signed_with_port = twilio_signature(auth_token="12345", url=with_port, params=PARAMS)
    assert verify_twilio_signature(
        auth_token="12345", url=URL, params=PARAMS, signature=signed_with_port
    )


def test_twilio_verification_refuses_any_change() -> None:
    def ok(**changes: object) -> bool:
        values: dict[str, object] = {
            "auth_token": "12345",
            "url": URL,
            "params": PARAMS,
            "signature": SIGNATURE,
        }
        values.update(changes)
        return verify_twilio_signature(**values)  # type: ignore[arg-type]

    assert ok()
    assert not ok(auth_token="54321")
    assert not ok(url=URL + "&baz=3")
    assert not ok(url=URL.replace("https", "http"))
    assert not ok(params={**PARAMS, "Digits": "9999"})
    assert not ok(params={**PARAMS, "Extra": "1"})
    assert not ok(signature="")
    assert not ok(signature=None)
    assert not ok(signature="RSOYDt4T1cUTdK1PDd93/VVr8B8")
    assert not ok(auth_token="")
