"""Starting a run: record it (queued) against a version's frozen plan, then ask for work.

Flow control from the workflow settings is applied here: an idempotency key returns the
run a duplicate trigger already started; a concurrency key and limit are stored on the run
(the lease is taken only when a slot is free); cancel-on rules become waits for the
cancelling event.
"""

from __future__ import annotations

from typing import Any

from n8nclone.durations import parse_duration
from n8nclone.engine.executor import Dispatcher
from n8nclone.errors import UserInputError
from n8nclone.expressions import ExpressionError, render_value
from n8nclone.store.runs import RunStore
from n8nclone.store.waits import field_value, wait_values


class RunNotStarted(UserInputError):
    """A flow-control setting could not be evaluated against this trigger's input."""


def start_run(runs: RunStore, dispatcher: Dispatcher, *, workflow_id: int, version_id: int,
              plan_settings: dict, input: Any = None, trigger_type: str = "manual",
              rerun_of: str | None = None, copy_steps: bool = False) -> str:
    """Create the run row first (the database is the source of truth), then send the message.
    If the send is lost, the sweep still finds the queued run. Returns the run id (an
    earlier run's, for a duplicate under the workflow's idempotency key).

    `rerun_of` starts that run again (see engine.control): a deliberate new run, so the
    idempotency key does not apply; `copy_steps` keeps that run's finished steps."""
    timeout = plan_settings.get("timeout")
    context = {"trigger": input}
    idempotency = plan_settings.get("idempotency_key")
    concurrency = plan_settings.get("concurrency")
    idempotency_key = concurrency_key = None
    if idempotency and rerun_of is None:
        idempotency_key = f"{workflow_id}:{_render(idempotency, context, 'idempotency_key')}"
    if concurrency:
        key = _render(concurrency.get("key") or "", context, "concurrency.key")
        concurrency_key = f"{workflow_id}:{key}"
    run_id, created = runs.create_run(
        workflow_id=workflow_id, version_id=version_id, input=input, trigger_type=trigger_type,
        timeout_seconds=parse_duration(timeout) if timeout else None,
        idempotency_key=idempotency_key, concurrency_key=concurrency_key,
        concurrency_limit=concurrency.get("limit") if concurrency else None,
        cancel_waits=[_cancel_wait(rule, input, context)
                      for rule in plan_settings.get("cancel_on") or []],
        rerun_of=rerun_of, copy_steps=copy_steps)
    if created:
        dispatcher.send(run_id)
    return run_id


def _render(template: str, context: dict, setting: str) -> str:
    try:
        return str(render_value(template, context, setting))
    except ExpressionError as exc:
        raise RunNotStarted(f"settings.{exc}") from None


def _cancel_wait(rule: dict, trigger: Any, context: dict) -> dict:
    """A cancel-on rule as a wait row: the event, and the field that must match this run
    (`value`, or by default the same field of the trigger, like Inngest's cancelOn)."""
    field = rule.get("match")
    if field and "value" in rule:
        value = render_value(rule["value"], context, "cancel_on.value")
    elif field:
        value = field_value(trigger if isinstance(trigger, dict) else {}, field)
    else:
        value = None
    return wait_values(run_id="", node_key=None, kind="cancel", event=rule["event"],
                       match_field=field, match_value=value, condition=rule.get("if"),
                       expires_at=None)
