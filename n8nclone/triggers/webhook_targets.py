"""Which workflow a webhook call starts: the active one registered for its method and path
(production URL), or the latest version of any workflow with that webhook (test URL)."""

from __future__ import annotations

from dataclasses import dataclass

from n8nclone.nodes.trigger_webhook import KIND, WebhookTrigger, registration_key
from n8nclone.services import Services
from n8nclone.store.workflows import WorkflowRecord
from n8nclone.triggers.webhook_reply import WebhookRefused


@dataclass(frozen=True)
class WebhookTarget:
    """A workflow version to run and its webhook's parameters (secrets included)."""

    workflow_id: int
    version_id: int
    plan_settings: dict
    params: dict
    trigger_type: str


def find_production_target(services: Services, method: str, path: str) -> WebhookTarget:
    """The active workflow registered for `method path`, or WebhookRefused (404, 405)."""
    found = services.triggers.find(KIND, registration_key(method, path))
    if not found:
        raise _not_found(services, method, path)
    registered = found[0]  # the key is exclusive: at most one
    plan = services.executor.plan_for(registered.version_id)  # immutable, cached
    node = plan.nodes[registered.node_key]
    return WebhookTarget(registered.workflow_id, registered.version_id, plan.settings,
                         WebhookTrigger.with_secrets(node.params), "webhook")


def find_test_target(services: Services, method: str, path: str) -> WebhookTarget:
    """The most recently saved workflow, active or not, whose current version's trigger is
    this webhook. A scan of every workflow: the test URL is for trying things out."""
    workflows = webhook_workflows(services)
    matches = [(record, params) for record, params in workflows
               if registration_key(params["method"], params["path"])
               == registration_key(method, path)]
    if not matches:
        if any(registration_key("", params["path"]) == registration_key("", path)
               for _, params in workflows):
            raise WebhookRefused(405, f"no workflow has a {method} webhook at {path}")
        raise WebhookRefused(404, f"no workflow has a webhook at {method} {path}")
    record, params = max(matches, key=lambda match: (match[0].updated_at, match[0].id))
    return WebhookTarget(record.id, record.version_id, record.plan.get("settings", {}),
                         params, "webhook_test")


def webhook_workflows(services: Services) -> list[tuple[WorkflowRecord, dict]]:
    """Every workflow whose current version starts with a webhook, with its parameters."""
    found = []
    for record in services.workflows.list():
        trigger = next((n for n in record.plan["nodes"] if n["key"] == record.plan["trigger"]),
                       None)
        if trigger is not None and trigger["type"] == KIND:
            found.append((record, WebhookTrigger.with_secrets(trigger["params"])))
    return found


def _not_found(services: Services, method: str, path: str) -> WebhookRefused:
    """Why no active workflow answers: another method (405), an inactive workflow (404
    saying so), or nothing at all (404)."""
    wanted = registration_key("", path)
    methods = sorted({r.key.split(" ", 1)[0] for r in services.triggers.find(KIND)
                      if registration_key("", r.key.split(" ", 1)[1]) == wanted})
    if methods:
        return WebhookRefused(405, f"the webhook at {path} does not take {method}",
                              {"allow": ", ".join(methods)})
    # The workflow's name is not told: the caller may be anybody.
    for _, params in webhook_workflows(services):
        if registration_key(params["method"], params["path"]) == registration_key(method, path):
            return WebhookRefused(404, "the workflow of this webhook is not active")
    return WebhookRefused(404, f"no active workflow has a webhook at {method} {path}")
