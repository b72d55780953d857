"""The composition root: builds the store, catalogue, broker and engine once from settings."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field

from dramatiq import Broker

from n8nclone.config import Settings, load_settings
from n8nclone.credentials.crypto import SecretKeyLoader
from n8nclone.credentials.vault import CredentialVault
from n8nclone.engine.executor import EngineConfig, Executor
from n8nclone.engine.run_waiters import RunWaiters
from n8nclone.nodes.registry import NodeRegistry, default_registry
from n8nclone.store.credentials import CredentialStore
from n8nclone.store.db import Database, get_database
from n8nclone.store.run_queries import RunQueries
from n8nclone.store.runs import RunStore
from n8nclone.store.triggers import TriggerIndex
from n8nclone.store.workflows import WorkflowStore
from n8nclone.triggers.webhook_news import attach_run_observers
from n8nclone.worker.broker import BrokerDispatcher, build_broker


@dataclass
class Services:
    settings: Settings
    db: Database
    runs: RunStore
    run_queries: RunQueries
    workflows: WorkflowStore
    registry: NodeRegistry
    broker: Broker
    dispatcher: BrokerDispatcher
    executor: Executor
    triggers: TriggerIndex
    credentials: CredentialVault
    run_waiters: RunWaiters = field(default_factory=RunWaiters)  # webhooks awaiting runs


def worker_owner_id() -> str:
    """Who holds a lease: host, process and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def build_services(settings: Settings | None = None) -> Services:
    settings = settings or load_settings()
    db = get_database(settings.database_url)
    runs = RunStore(db)
    registry = default_registry()
    broker = build_broker(settings)
    dispatcher = BrokerDispatcher(broker)
    executor = Executor(runs, registry, dispatcher, EngineConfig(
        owner=worker_owner_id(), lease_seconds=settings.lease_seconds,
        parallel_steps=settings.parallel_steps, default_retries=settings.default_retries,
        backoff_base=settings.retry_backoff_base, backoff_cap=settings.retry_backoff_cap,
        serialize_engine_work=db.is_sqlite))
    services = Services(settings=settings, db=db, runs=runs, run_queries=RunQueries(db),
                        workflows=WorkflowStore(db), registry=registry, broker=broker,
                        dispatcher=dispatcher, executor=executor, triggers=TriggerIndex(db),
                        credentials=CredentialVault(CredentialStore(db),
                                                    SecretKeyLoader.from_settings(settings)))
    executor.event_sink = lambda events: _send_events(services, events)
    executor.find_credential = services.credentials.resolve
    attach_run_observers(services)
    return services


def _send_events(services: Services, events: list[dict]) -> list[str]:
    """How `event.send` steps emit events: through the same ingestion as the event API."""
    from n8nclone.triggers.events import EventIn, ingest_events

    return ingest_events(services, [EventIn(name=e["name"], data=e.get("data"), id=e.get("id"))
                                    for e in events])


_services: Services | None = None
_lock = threading.Lock()


def get_services() -> Services:
    """The process-wide services, built from the environment on first use."""
    global _services
    with _lock:
        if _services is None:
            _services = build_services()
        return _services
