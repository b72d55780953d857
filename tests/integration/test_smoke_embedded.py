"""The smallest end-to-end check of the embedded default, on SQLite and PostgreSQL."""

from n8nclone.engine.start import start_run
from n8nclone.workflows import save_workflow
from tests.conftest import wait_for_status
from tests.utils.workflows import chain


def test_a_chain_runs_to_the_end_with_one_checkpoint_per_step(embedded):
    record = save_workflow(embedded.workflows, embedded.registry, chain("smoke", 5))

    run_id = start_run(embedded.runs, embedded.dispatcher, workflow_id=record.id,
                       version_id=record.version_id, plan_settings={}, input={"x": 1})

    assert wait_for_status(embedded, run_id) == "succeeded"
    run = embedded.run_queries.get_run(run_id)
    assert [s["key"] for s in run["steps"]] == ["start"] + [f"step{i}" for i in range(5)]
    assert all(s["attempts"] == 1 and len(s["attempt_history"]) == 1 for s in run["steps"])
    assert run["output"] == {"index": 4, "seen": {"x": 1}}
