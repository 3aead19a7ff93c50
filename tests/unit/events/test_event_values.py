"""What an event may hold: its type, its properties and its key, refused with the field named."""

from __future__ import annotations

import math

import pytest

from textopt.errors import ValidationError
from textopt.events.service import (
    MAX_PROPERTIES_BYTES,
    check_key,
    check_properties,
)
from textopt.events.types import normalise_type


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("Order_Shipped", "order_shipped"), (" visit ", "visit"), ("a.b-c_1", "a.b-c_1"), ("7", "7")],
)
def test_types_are_stored_in_lower_case(raw: str, stored: str) -> None:
    assert normalise_type(raw) == stored


@pytest.mark.parametrize("raw", ["", " ", "_x", "-x", "order shipped", "é", "a" * 65, "a/b"])
def test_bad_types_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError) as caught:
        normalise_type(raw)
    assert caught.value.field == "type"


def _nested(levels: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"next": value}
    return value


def test_properties_five_levels_deep_are_kept_six_are_refused() -> None:
    assert check_properties(_nested(5)) == _nested(5)
    assert check_properties({"items": [[[[1]]]]}) == {"items": [[[[1]]]]}
    for too_deep in (_nested(6), {"items": [[[[[1]]]]]}):
        with pytest.raises(ValidationError, match="5 levels deep") as caught:
            check_properties(too_deep)
        assert caught.value.field == "properties"


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"total": math.nan}, "not a number JSON can carry"),
        ({"total": math.inf}, "not a number JSON can carry"),
        ({"items": [1, -math.inf]}, "not a number JSON can carry"),
        ({"note": "a\x00b"}, "NUL"),
        ({"note": "\ud800"}, "surrogate"),
        ({"": 1}, "a property name is 1 to 64 characters"),
        ({"x" * 65: 1}, "a property name is 1 to 64 characters"),
        ({"note": "x" * MAX_PROPERTIES_BYTES}, "at most 16384 are kept"),
    ],
)
def test_properties_json_cannot_carry_or_too_large_are_refused(
    properties: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        check_properties(properties)


def test_properties_must_be_an_object() -> None:
    for value in ([1, 2], "text", 3, None):
        with pytest.raises(ValidationError, match="must be an object"):
            check_properties(value)


@pytest.mark.parametrize("key", ["", "has space", "é", "x" * 101, "tab\there"])
def test_bad_keys_are_refused_naming_the_face_s_field(key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_key(key, field="--key")
    assert caught.value.field == "--key"
    assert check_key("order-4711/ship") == "order-4711/ship"
