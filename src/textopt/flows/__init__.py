"""Flows: a trigger and ordered steps, run once per occurrence for a contact (docs/flows.md).

What the faces (CLI, API, dashboard) use:

- `definition`: `parse_definition(data)` (JSON-like data: an API body, a step editor's
  form), `definition_from_toml(text)`, `FlowDefinition.to_data()`; errors are
  `ValidationError`s whose `field` is the path (`steps[1].until`) and whose message names
  the step (`step 2 (wait): …`).
- `commands`: the audited actions — `create_flow`, `add_flow_version`, `apply_flow`,
  `activate_flow`, `pause_flow`, `archive_flow`.
- `service`: reading — `list_flows`, `get_flow_or_raise`, `latest_version`,
  `get_version_or_raise`, `definition_of`, `list_runs`, `run_logs`, and the `*_fields`
  functions giving JSON-ready data.
- `stats`: `flow_stats(session, flow=…)` per version and step, `stats_fields`.
- `preview`: `preview_flow(session, settings=…, definition=…, contact=…, now=…)` — what the
  flow would do for a contact, nothing written; `preview_fields`.
- `jobs`: `run_flows` (one pass: triggers, then due steps) and the dispatcher's job.
"""
