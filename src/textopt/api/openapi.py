"""The published schema: short operation ids, error bodies, CSV downloads, webhooks.

Generated clients name their functions after operation ids, so each route has an explicit
one here (`messages_send`, not FastAPI's `send_message_v1_messages_post`), keyed by the
endpoint's module and function: route bodies stay as they are. A route missing from the
table falls back to `<tag>_<function>` (a test lists the ones that do). Every operation
documents its error responses as RFC 9457 problem details (`application/problem+json`),
and the outbound webhook events are described under `webhooks` (OpenAPI 3.1).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from textopt.http.deps import COOKIE_NAME

__all__ = [
    "ERROR_RESPONSES",
    "OPERATION_IDS",
    "PUBLIC_OPERATIONS",
    "Problem",
    "install_openapi",
    "operation_id",
]

#: `module:function` of each endpoint -> its operation id.
OPERATION_IDS: dict[str, str] = {
    # accounts
    "accounts:login": "auth_login",
    "accounts:logout": "auth_logout",
    "accounts:me": "auth_me",
    "accounts:list_users": "users_list",
    "accounts:create_user": "users_create",
    "accounts:disable_user": "users_disable",
    "accounts:list_keys": "api_keys_list",
    "accounts:create_key": "api_keys_create",
    "accounts:revoke_key": "api_keys_revoke",
    "accounts:audit_log": "audit_list",
    # contacts
    "contacts:list_contacts": "contacts_list",
    "contacts:create_contact": "contacts_create",
    "contacts:import_upload": "contacts_import",
    "contacts:import_rejects": "contacts_import_rejects",
    "contacts:start_import_job": "contacts_import_start",
    "contacts:get_import_job": "contacts_import_job",
    "contacts:export": "contacts_export",
    "contacts:get_contact": "contacts_get",
    "contacts:update_contact": "contacts_update",
    "contacts:delete_contact": "contacts_delete",
    "contacts:add_tags": "contacts_add_tags",
    "contacts:remove_tag": "contacts_remove_tag",
    # consent
    "consent:grant": "consent_grant",
    "consent:revoke": "consent_revoke",
    "consent:history": "consent_history",
    "consent:verify": "consent_verify",
    "consent:list_texts": "consent_texts_list",
    "consent:add_text": "consent_texts_create",
    # segments
    "segments:list_segments": "segments_list",
    "segments:create_segment": "segments_create",
    "segments:get_segment": "segments_get",
    "segments:update_segment": "segments_update",
    "segments:delete_segment": "segments_delete",
    "segments:count_segment": "segments_count",
    # campaigns
    "campaigns:list_campaigns": "campaigns_list",
    "campaigns:create_campaign": "campaigns_create",
    "campaigns:get_campaign": "campaigns_get",
    "campaigns:edit_campaign": "campaigns_edit",
    "campaigns:delete_campaign": "campaigns_delete",
    "campaigns:duplicate_campaign": "campaigns_duplicate",
    "campaigns:preview": "campaigns_preview",
    "campaigns:launch": "campaigns_launch",
    "campaigns:pause": "campaigns_pause",
    "campaigns:resume": "campaigns_resume",
    "campaigns:cancel": "campaigns_cancel",
    "campaigns:report": "campaigns_report",
    "campaigns:why": "campaigns_why",
    "campaigns:why_by_body": "campaigns_why_by_body",
    # messages
    "messages:send_message": "messages_send",
    "messages:list_messages": "messages_list",
    "messages:get_message": "messages_get",
    # events
    "events:record_event": "events_record",
    "events:list_events": "events_list",
    "events:contact_events": "contacts_events",
    # keywords
    "keywords:list_keywords": "keywords_list",
    "keywords:create_keyword": "keywords_create",
    "keywords:get_keyword": "keywords_get",
    "keywords:update_keyword": "keywords_update",
    "keywords:delete_keyword": "keywords_delete",
    # flows
    "flows:list_flows": "flows_list",
    "flows:create_flow": "flows_create",
    "flows:get_flow": "flows_get",
    "flows:add_version": "flows_add_version",
    "flows:get_version": "flows_get_version",
    "flows:activate_flow": "flows_activate",
    "flows:pause_flow": "flows_pause",
    "flows:archive_flow": "flows_archive",
    "flows:flow_stats_route": "flows_stats",
    "flows:preview": "flows_preview",
    "flows:flow_runs": "flows_occurrences",
    "flows:contact_runs": "contacts_flows",
    # gdpr
    "gdpr:export_person": "gdpr_export",
    "gdpr:erase_person": "gdpr_erase",
    # webhook endpoints
    "webhooks:list_endpoints": "webhooks_list",
    "webhooks:create_endpoint": "webhooks_create",
    "webhooks:delete_endpoint": "webhooks_delete",
    "webhooks:deliveries": "webhooks_deliveries",
    # provider callbacks and unsubscribe links
    "hooks:twilio_status": "callbacks_twilio_status",
    "hooks:twilio_inbound": "callbacks_twilio_inbound",
    "hooks:generic_status": "callbacks_generic_status",
    "hooks:generic_inbound": "callbacks_generic_inbound",
    "hooks:unsubscribe_page": "unsubscribe_page",
    "hooks:unsubscribe_now": "unsubscribe_confirm",
    # health
    "health:health": "health",
    "metrics:metrics": "metrics",
    # questions messages ask, events imported from a file
    "questions:contact_questions": "contacts_questions",
    "events:import_events_file": "events_import",
}


class ProblemItem(BaseModel):
    """One validation error of a request."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document: every error of the API."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="A URI naming the kind of problem")
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine code: not_found, conflict, invalid...")
    field: str | None = Field(default=None, description="The field at fault, when one is")
    errors: list[ProblemItem] | None = Field(
        default=None, description="Every validation error (422 from request validation)"
    )


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }


#: The errors any operation may answer (documented once, on the app).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem("Missing, unknown, revoked or expired credentials"),
    403: _problem("A scope is missing, or a cookie session without its CSRF token"),
    404: _problem("No such resource"),
    409: _problem("The state forbids it"),
    422: _problem("Invalid input; `field` names it"),
    429: _problem("Rate limited: retry after `Retry-After` seconds"),
    503: _problem("The database failed: nothing was acknowledged, retry"),
}


#: Operations anyone may call: no credentials, so no 401/403 (a provider's callback is
#: signed instead, and refused with 401 when the signature is wrong).
PUBLIC_OPERATIONS = frozenset({"health", "auth_login", "unsubscribe_page", "unsubscribe_confirm"})
_CALLBACKS = "callbacks_"


def operation_id(route: APIRoute) -> str:
    """The operation id of a route: from `OPERATION_IDS`, else `<tag>_<function>`."""
    module = route.endpoint.__module__.rsplit(".", 1)[-1]
    known = OPERATION_IDS.get(f"{module}:{route.endpoint.__name__}")
    if known is not None:
        return known
    tag = str(route.tags[0]) if route.tags else module
    return f"{tag}_{route.endpoint.__name__}"


def _csv_as_string(schema: dict[str, Any]) -> None:
    """CSV downloads: a `text/csv` string, and no JSON body that does not exist."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            ok = operation.get("responses", {}).get("200", {})
            content = ok.get("content", {})
            if "text/csv" in content:
                content.pop("application/json", None)
                content["text/csv"] = {"schema": {"type": "string"}}


def _security(schema: dict[str, Any]) -> None:
    """An API key (bearer) or the session cookie on every operation that needs credentials."""
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "`textopt apikeys create`"},
        "session": {"type": "apiKey", "in": "cookie", "name": COOKIE_NAME},
    }
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            name = operation.get("operationId", "")
            if name in PUBLIC_OPERATIONS or name.startswith(_CALLBACKS):
                operation["responses"].pop("403", None)
                if not name.startswith(_CALLBACKS):
                    operation["responses"].pop("401", None)
                continue
            operation["security"] = [{"apiKey": []}, {"session": []}]


def _problems_only(schema: dict[str, Any]) -> None:
    """Drop FastAPI's own `HTTPValidationError` body: a 422 is a problem document."""
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def install_openapi(app: FastAPI) -> None:
    """Publish the app's schema with problem bodies, CSV downloads and `webhooks`."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components.update(Problem.model_json_schema().get("$defs", {}))
        components["Problem"].pop("$defs", None)
        _csv_as_string(schema)
        _security(schema)
        _problems_only(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = build  # type: ignore[method-assign]
