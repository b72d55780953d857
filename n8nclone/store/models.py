"""SQLModel tables. Schema changes go through Alembic migrations only.

Workflow versions are immutable: a save inserts a new version (with its nodes,
edges and computed plan); runs point at the version they run, which is what
freezes a run's plan (DESIGN rule 2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from n8nclone.store.clock import new_id, utcnow


def _json(nullable: bool = True) -> Column:
    return Column(JSON, nullable=nullable)


class Workflow(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    active: bool = Field(default=True)
    current_version_id: Optional[int] = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WorkflowVersion(SQLModel, table=True):
    __tablename__ = "workflow_version"
    __table_args__ = (UniqueConstraint("workflow_id", "number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    workflow_id: int = Field(foreign_key="workflow.id", index=True)
    number: int
    spec: dict = Field(sa_column=_json(False))  # the workflow file as saved
    plan: dict = Field(sa_column=_json(False))  # graph.Plan.to_dict(), computed at save
    created_at: datetime = Field(default_factory=utcnow)


class WorkflowNode(SQLModel, table=True):
    __tablename__ = "workflow_node"
    __table_args__ = (UniqueConstraint("version_id", "key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="workflow_version.id", index=True)
    key: str
    type: str
    params: dict = Field(sa_column=_json(False))
    position_x: float = 0
    position_y: float = 0
    retries: Optional[int] = None


class WorkflowEdge(SQLModel, table=True):
    __tablename__ = "workflow_edge"

    id: Optional[int] = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="workflow_version.id", index=True)
    source: str
    port: str = "main"
    target: str


class Run(SQLModel, table=True):
    __table_args__ = (
        Index("ix_run_started", "started_at", "id"),
        Index("ix_run_workflow_started", "workflow_id", "started_at", "id"),
        Index("ix_run_status_started", "status", "started_at", "id"),
        Index("ix_run_status_wake", "status", "wake_at"),
        Index("ix_run_concurrency", "concurrency_key", "status", "started_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    workflow_id: int = Field(foreign_key="workflow.id")
    version_id: int = Field(foreign_key="workflow_version.id")
    status: str = Field(default="queued")
    trigger_type: str = "manual"
    input: Any = Field(default=None, sa_column=_json())
    output: Any = Field(default=None, sa_column=_json())
    error: Optional[dict] = Field(default=None, sa_column=_json())
    started_at: datetime = Field(default_factory=utcnow)  # when the trigger fired
    ended_at: Optional[datetime] = None
    updated_at: datetime = Field(default_factory=utcnow)
    deadline_at: Optional[datetime] = None  # workflow timeout
    wake_at: Optional[datetime] = None  # earliest retry/resume time while not runnable now
    enqueued_at: Optional[datetime] = None  # last time a message was sent for it
    lease_owner: Optional[str] = None
    lease_expires_at: Optional[datetime] = None
    wake_seq: int = 0  # bumped by anyone who wants the run looked at again
    step_count: int = 0
    idempotency_key: Optional[str] = Field(default=None, index=True)
    concurrency_key: Optional[str] = None  # runs sharing it share the workflow's limit
    concurrency_limit: Optional[int] = None
    rerun_of: Optional[str] = None  # the run this one was rerun or retried from


class Step(SQLModel, table=True):
    """The checkpoint of one node in one run: memoized by (run_id, node_key)."""

    __table_args__ = (UniqueConstraint("run_id", "node_key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id")
    node_key: str
    node_type: str
    status: str  # running, succeeded, failed, retrying, skipped, cancelled
    attempts: int = 0
    input: Any = Field(default=None, sa_column=_json())
    output: Any = Field(default=None, sa_column=_json())
    output_port: Optional[str] = None
    error: Optional[dict] = Field(default=None, sa_column=_json())
    started_at: Optional[datetime] = None
    ended_at: Optional[datetime] = None
    next_attempt_at: Optional[datetime] = None
    # What the step's calls to metered services (LLMs) consumed, summed over its attempts;
    # null for steps that made none. cost_usd stays null when no call had a known price.
    model: Optional[str] = None
    prompt_tokens: Optional[int] = None
    completion_tokens: Optional[int] = None
    total_tokens: Optional[int] = None
    cost_usd: Optional[float] = None
    latency_ms: Optional[float] = None


class StepAttempt(SQLModel, table=True):
    """One try of a step, so the history of retries stays visible."""

    __tablename__ = "step_attempt"
    __table_args__ = (Index("ix_step_attempt_run_node", "run_id", "node_key", "number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id")
    node_key: str
    number: int
    status: str  # running, succeeded, failed
    error: Optional[dict] = Field(default=None, sa_column=_json())
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: Optional[datetime] = None


class Event(SQLModel, table=True):
    __table_args__ = (
        Index("ix_event_name_received", "name", "received_at"),
        Index("ix_event_external_id", "external_id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    external_id: Optional[str] = None  # the sender's id, for idempotent sends
    name: str
    data: Any = Field(default=None, sa_column=_json())
    ts: datetime = Field(default_factory=utcnow)
    received_at: datetime = Field(default_factory=utcnow)


class TriggerRegistration(SQLModel, table=True):
    """How an active workflow is found by its trigger: a webhook path and method, an event
    name, a schedule. Rewritten with every save and (de)activation of the workflow.

    `exclusive_key` is unique: two active workflows cannot claim the same webhook."""

    __tablename__ = "trigger_registration"
    __table_args__ = (Index("ix_trigger_kind_key", "kind", "key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    workflow_id: int = Field(foreign_key="workflow.id", index=True)
    version_id: int = Field(foreign_key="workflow_version.id")
    node_key: str
    kind: str  # the trigger node's type, e.g. trigger.webhook
    key: str  # what it is looked up by, e.g. "POST orders" or "order/*"
    exclusive_key: Optional[str] = Field(default=None, unique=True)
    config: dict = Field(sa_column=_json(False))  # the trigger node's params


class Wait(SQLModel, table=True):
    """A run waiting for an event: a `wait.event` step (kind "step") or a workflow's
    cancel-on rule (kind "cancel"). Found by (event name, match key) when events arrive."""

    __table_args__ = (
        Index("ix_wait_event_match", "event_name", "status", "match_key"),
        Index("ix_wait_event_field", "event_name", "status", "match_field"),
        Index("ix_wait_run", "run_id", "node_key"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="run.id")
    node_key: Optional[str] = None  # the waiting step (kind "step")
    kind: str = "step"
    event_name: str
    match_field: Optional[str] = None
    match_key: Optional[str] = None  # f"{field}={json value}": looked up directly
    condition: Optional[str] = None
    expires_at: Optional[datetime] = None
    fail_on_timeout: bool = False
    status: str = "waiting"  # waiting, matched, dropped
    event_id: Optional[str] = None  # the event that matched
    created_at: datetime = Field(default_factory=utcnow)


class EventKey(SQLModel, table=True):
    """A key that may send events to `POST /e/<key>`. Only the key's sha256 is stored;
    `hint` (its first characters) tells keys apart in listings."""

    __tablename__ = "event_key"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    key_hash: str = Field(unique=True)  # sha256 hex of the key: looked up by it
    hint: str
    created_at: datetime = Field(default_factory=utcnow)


class Credential(SQLModel, table=True):
    """A named secret that workflow steps use by name (an API key, a header, a password).

    `ciphertext` is a Fernet token (n8nclone.credentials.crypto) of the credential's data;
    the plain secret is never stored. `hint` is a masked tail (at most 4 characters of the
    secret) that tells credentials apart in listings."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    type: str  # llm_api_key, http_header, http_basic, bearer_token
    hint: str
    ciphertext: str
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# The event list pages by (received_at, id), newest first, with or without a name filter.
Index("ix_event_received_id", Event.received_at, Event.id)



class ScheduleTick(SQLModel, table=True):
    """A tick of a scheduled workflow, claimed by the scheduler that fires it. Unique
    (workflow_id, tick_at): however many schedulers race, one claims a tick and starts its
    run. A claimed tick without a run (its scheduler died) is started again later."""

    __tablename__ = "schedule_tick"
    __table_args__ = (
        UniqueConstraint("workflow_id", "tick_at"),
        Index("ix_schedule_tick_unstarted", "run_id", "claimed_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    workflow_id: int = Field(foreign_key="workflow.id", ondelete="CASCADE")
    version_id: int  # the version registered when it fired (no key: versions go first)
    tick_at: datetime  # the cron time it fired for
    input: dict = Field(sa_column=_json(False))  # the run's trigger input
    claimed_at: datetime = Field(default_factory=utcnow)
    run_id: Optional[str] = None  # set once the run exists (no key: runs may be deleted)
    error: Optional[str] = None  # why no run could be started (not tried again)
# An event's page lists the runs it resumed or cancelled: the waits it matched.
Index("ix_wait_event_id", Wait.event_id)


class User(SQLModel, table=True):
    """A person who may log in. `password_hash` is an argon2id hash (n8nclone.auth)."""

    __tablename__ = "app_user"  # "user" is reserved on PostgreSQL

    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(unique=True)  # stored lower-cased
    password_hash: str
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: Optional[datetime] = None


class ApiKey(SQLModel, table=True):
    """A key for scripts: `Authorization: Bearer <key>` on the management API. Only its
    sha256 is stored, like an event key's."""

    __tablename__ = "api_key"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    key_hash: str = Field(unique=True)  # sha256 hex of the key: looked up by it
    hint: str
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: Optional[datetime] = None


class AuthSession(SQLModel, table=True):
    """A login: the browser holds a random token in a cookie, the row's id is its sha256."""

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
