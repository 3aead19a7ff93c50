"""The published schema: named operations, typed bodies, problem errors, webhooks."""

from __future__ import annotations

from typing import Any

from tests.factories.api import ApiClient

from textopt.api.openapi import OPERATION_IDS


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_has_its_own_short_id_from_the_table(anonymous: ApiClient) -> None:
    schema = anonymous.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    ids = [operation["operationId"] for _, _, operation in _operations(schema)]
    assert len(ids) == len(set(ids))
    assert sorted(set(ids) - set(OPERATION_IDS.values())) == []  # none fell back
    assert {"messages_send", "messages_get", "messages_list", "campaigns_report", "health"} <= set(
        ids
    )
    assert [i for i in ids if "v1" in i or len(i) > 30] == []  # no path in it
    assert all(operation.get("tags") for _, _, operation in _operations(schema))


def test_every_answer_has_a_schema_and_every_error_is_a_problem(anonymous: ApiClient) -> None:
    schema = anonymous.get("/openapi.json").json()
    untyped = []
    for method, path, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if status == "204":
                assert not response.get("content"), (method, path)
                continue
            for media, body in response.get("content", {}).items():
                shape = body.get("schema", {})
                if not ("$ref" in shape or shape.get("type") in ("string", "array")):
                    untyped.append(f"{method} {path} {status} {media}")
        problem = operation["responses"]["404"]["content"]["application/problem+json"]
        assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert untyped == []
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    export = schema["paths"]["/v1/contacts/export"]["get"]["responses"]["200"]["content"]
    assert export == {"text/csv": {"schema": {"type": "string"}}}
    sent = schema["paths"]["/v1/messages"]["post"]["responses"]
    assert {"200", "201"} <= set(sent)  # a retry with the same key answers 200


def test_the_outbound_webhooks_are_described_with_their_versioned_bodies(
    anonymous: ApiClient,
) -> None:
    schema = anonymous.get("/openapi.json").json()
    hooks = schema["webhooks"]
    assert set(hooks) == {
        "message.status_changed",
        "contact.opted_out",
        "campaign.completed",
        "question.answered",
    }
    components = schema["components"]["schemas"]
    for name, item in hooks.items():
        operation = item["post"]
        assert "X-Textopt-Signature" in operation["description"]
        assert "HMAC-SHA256" in operation["description"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert {"X-Textopt-Signature", "X-Textopt-Event-Id", "X-Textopt-Attempt"} <= headers
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = components[ref.rsplit("/", 1)[-1]]
        assert body["properties"]["type"]["const"] == name
        assert body["properties"]["version"]["const"] == 1
        assert {"id", "type", "version", "created_at", "data"} <= set(body["required"])


def test_credentials_are_declared_where_they_are_needed_only(anonymous: ApiClient) -> None:
    schema = anonymous.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`textopt apikeys create`",
    }
    send = schema["paths"]["/v1/messages"]["post"]
    assert send["security"] == [{"apiKey": []}, {"session": []}]
    assert {"401", "403"} <= set(send["responses"])
    health = schema["paths"]["/health"]["get"]
    assert "security" not in health
    assert not {"401", "403"} & set(health["responses"])
    assert set(health["responses"]) >= {"200", "503"}
