"""The run store's lease and release, on SQLite and PostgreSQL: a new run is leased as fresh,
its last steps are committed with its release, and a release tells what became of the run
when someone else acted on it meanwhile."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from n8nclone.store.clock import utcnow
from n8nclone.store.db import get_database
from n8nclone.store.runs import RUN, STEP, LeaseLost, RunStore, StepFinish, StepStart
from n8nclone.store.workflows import WorkflowStore


@pytest.fixture
def runs(database_url) -> RunStore:
    return RunStore(get_database(database_url))


@pytest.fixture
def leased(runs):
    """A run leased by "w1" with its first step started."""
    record = WorkflowStore(runs.db).create({"name": "wf", "nodes": [], "edges": []}, {})
    run_id, _ = runs.create_run(workflow_id=record.id, version_id=record.version_id,
                                input={"n": 1}, trigger_type="manual")
    run = runs.acquire_lease(run_id, "w1", ttl=30)
    runs.checkpoint(run_id, "w1", started=[StepStart("start", "trigger.manual", 1, {})])
    return run


def run_row(runs: RunStore, run_id: str):
    with runs.db.read() as conn:
        return conn.execute(select(RUN).where(RUN.c.id == run_id)).one()


def step_status(runs: RunStore, run_id: str) -> dict[str, str]:
    with runs.db.read() as conn:
        return dict(conn.execute(select(STEP.c.node_key, STEP.c.status)
                                 .where(STEP.c.run_id == run_id)).all())


def finish(key: str = "start") -> StepFinish:
    return StepFinish(key, 1, "succeeded", utcnow(), output={"ok": True})


def test_a_new_run_is_leased_as_fresh_and_a_second_lease_is_not(runs, leased):
    # expect the first lease of a queued run to say it has no steps yet
    assert leased.fresh and leased.status == "running"
    # and nobody else to get it while the lease lives
    assert runs.acquire_lease(leased.id, "w2", ttl=30) is None


def test_release_commits_the_last_steps_with_the_run(runs, leased):
    # when the run is released with its last step's result
    status = runs.release(leased.id, "w1", status="succeeded", wake_seq=leased.wake_seq,
                          output={"ok": True}, finished=[finish()])

    # expect both written: the step succeeded, the run ended without a lease
    assert status == "succeeded"
    assert step_status(runs, leased.id) == {"start": "succeeded"}
    row = run_row(runs, leased.id)
    assert (row.status, row.lease_owner, row.output) == ("succeeded", None, {"ok": True})


def test_release_after_a_cancel_records_the_steps_and_says_cancelled(runs, leased):
    # given the run was cancelled while its step ran
    runs.cancel(leased.id)

    # when the worker releases it as it would have
    status = runs.release(leased.id, "w1", status="succeeded", wake_seq=leased.wake_seq,
                          finished=[finish()])

    # expect the cancel to stand, the step's real result kept, and the lease dropped
    assert status == "cancelled"
    assert step_status(runs, leased.id) == {"start": "succeeded"}
    row = run_row(runs, leased.id)
    assert (row.status, row.lease_owner) == ("cancelled", None)


def test_release_asked_for_another_look_returns_none(runs, leased):
    # given someone asked for another look (an event came for the run)
    runs.request_wake(leased.id)

    # expect the release to say "look again", with the step kept and the run still active
    assert runs.release(leased.id, "w1", status="waiting", wake_seq=leased.wake_seq,
                        finished=[finish()]) is None
    assert step_status(runs, leased.id) == {"start": "succeeded"}
    assert run_row(runs, leased.id).status == "running"


def test_release_without_the_lease_writes_nothing(runs, leased):
    # when a worker that does not hold the lease releases the run
    with pytest.raises(LeaseLost):
        runs.release(leased.id, "w2", status="succeeded", wake_seq=leased.wake_seq,
                     finished=[finish()])

    # expect nothing written
    assert step_status(runs, leased.id) == {"start": "running"}
    assert run_row(runs, leased.id).lease_owner == "w1"


def park(runs: RunStore, count: int, wake_in: float) -> list[str]:
    """`count` runs sleeping until `wake_in` seconds from now, no message sent for it (as
    the engine leaves a wake past its delayed-message horizon)."""
    record = WorkflowStore(runs.db).create({"name": f"wf-{wake_in}", "nodes": [],
                                            "edges": []}, {})
    run_ids = []
    for _ in range(count):
        run_id, _ = runs.create_run(workflow_id=record.id, version_id=record.version_id,
                                    input=None, trigger_type="manual")
        run = runs.acquire_lease(run_id, "w1", ttl=30)
        assert runs.release(run_id, "w1", status="sleeping", wake_seq=run.wake_seq,
                            wake_at=utcnow() + timedelta(seconds=wake_in)) == "sleeping"
        run_ids.append(run_id)
    return run_ids


def test_due_wakes_are_claimed_once_with_their_wake_time(runs):
    # given runs due now, runs due within a second and runs due in an hour
    due_now = park(runs, 3, 0.2)
    time.sleep(0.3)
    due_soon = park(runs, 2, 0.5)
    park(runs, 2, 3600)

    # expect a claim looking a second ahead to take the first two groups, with their times
    claimed = dict(runs.claim_due_wakes(within=1.0))
    assert set(claimed) == set(due_now + due_soon)
    assert all(claimed[r] > utcnow() for r in due_soon)
    # and nothing to be claimed twice
    assert runs.claim_due_wakes(within=1.0) == []


def test_racing_sweepers_claim_each_run_once(runs):
    # given 40 runs due, and four sweepers looking at the same moment
    run_ids = park(runs, 40, 0.2)
    time.sleep(0.3)
    results: list[list] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        results.append([run_id for run_id, _ in runs.claim_due_wakes()])

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # expect every run claimed by exactly one of them
    claimed = [run_id for result in results for run_id in result]
    assert sorted(claimed) == sorted(run_ids)
