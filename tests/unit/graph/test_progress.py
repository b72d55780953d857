"""Branch semantics: which steps may start, which are skipped, what inputs they get."""

from __future__ import annotations

from n8nclone.graph.plan import Plan, build_plan
from n8nclone.graph.progress import SKIPPED, SUCCEEDED, StepState, is_complete, next_steps
from n8nclone.graph.spec import parse_workflow
from n8nclone.nodes.registry import default_registry


def plan_of(nodes: list[tuple[str, str]], edges: list[tuple]) -> Plan:
    """nodes: (key, type); edges: (source, target) or (source, port, target)."""
    params = {"data.set": {"values": {}}, "flow.if": {"condition": "{{ trigger.ok }}"}}
    spec = parse_workflow({
        "name": "test",
        "nodes": [{"key": k, "type": t, "params": params.get(t, {})} for k, t in nodes],
        "edges": [{"from": e[0], "to": e[-1], "port": e[1] if len(e) == 3 else "main"}
                  for e in edges],
    })
    return build_plan(spec, default_registry())


def done(port: str | None = None) -> StepState:
    return StepState(SUCCEEDED, port)


def if_plan() -> Plan:
    """start -> check; check.true -> yes -> yes2; check.false -> no; yes2 + no -> end."""
    return plan_of(
        [("start", "trigger.manual"), ("check", "flow.if"), ("yes", "data.set"),
         ("yes2", "data.set"), ("no", "data.set"), ("end", "flow.merge")],
        [("start", "check"), ("check", "true", "yes"), ("yes", "yes2"),
         ("check", "false", "no"), ("yes2", "end"), ("no", "end")])


def test_at_the_start_only_the_trigger_is_ready():
    # given a plan with nothing recorded
    plan = if_plan()

    # when asking what can happen
    progress = next_steps(plan, {})

    # expect the trigger, with no inputs
    assert progress.ready == ("start",)
    assert progress.skipped == ()
    assert progress.live_inputs == {"start": ()}


def test_a_step_waits_for_its_input_to_finish():
    # given the trigger still running
    plan = if_plan()

    # when asking what can happen
    progress = next_steps(plan, {"start": StepState("running")})

    # expect nothing new
    assert progress.ready == ()
    assert progress.skipped == ()


def test_a_failed_input_does_not_release_its_successors():
    # given the if step failed
    plan = if_plan()
    states = {"start": done(), "check": StepState("failed")}

    # when asking what can happen
    progress = next_steps(plan, states)

    # expect nothing ready and nothing skipped
    assert progress.ready == ()
    assert progress.skipped == ()


def test_if_true_runs_the_true_branch_and_skips_the_false_branch():
    # given the if chose port true
    plan = if_plan()
    states = {"start": done(), "check": done("true")}

    # when asking what can happen
    progress = next_steps(plan, states)

    # expect yes ready with check as its input, and no skipped
    assert progress.ready == ("yes",)
    assert progress.live_inputs["yes"] == ("check",)
    assert progress.skipped == ("no",)


def test_if_false_skips_the_whole_true_chain_in_one_pass():
    # given the if chose port false
    plan = if_plan()
    states = {"start": done(), "check": done("false")}

    # when asking what can happen
    progress = next_steps(plan, states)

    # expect the skip to cascade down yes -> yes2, and no to be ready
    assert progress.ready == ("no",)
    assert progress.skipped == ("yes", "yes2")


def test_merge_waits_for_the_live_branch_then_gets_only_live_inputs():
    # given the false branch chosen and its node still running
    plan = if_plan()
    states = {"start": done(), "check": done("false"), "yes": StepState(SKIPPED),
              "yes2": StepState(SKIPPED), "no": StepState("running")}

    # when asking what can happen, then again once "no" succeeded
    waiting = next_steps(plan, states)
    states["no"] = done()
    released = next_steps(plan, states)

    # expect the merge to wait, then run with only "no" as input
    assert waiting.ready == ()
    assert released.ready == ("end",)
    assert released.live_inputs["end"] == ("no",)


def test_merge_is_skipped_when_every_input_is_skipped():
    # given a merge whose two inputs are both downstream of an untaken port
    plan = plan_of(
        [("start", "trigger.manual"), ("check", "flow.if"), ("a", "data.set"),
         ("b", "data.set"), ("end", "flow.merge"), ("other", "data.set")],
        [("start", "check"), ("check", "true", "a"), ("check", "true", "b"),
         ("a", "end"), ("b", "end"), ("check", "false", "other")])
    states = {"start": done(), "check": done("false")}

    # when asking what can happen
    progress = next_steps(plan, states)

    # expect the skip to reach the merge too
    assert progress.skipped == ("a", "b", "end")
    assert progress.ready == ("other",)


def test_node_with_several_inputs_runs_once_all_are_done():
    # given a fan-out and fan-in with one side still running
    plan = plan_of(
        [("start", "trigger.manual"), ("a", "data.set"), ("b", "data.set"),
         ("join", "flow.merge")],
        [("start", "a"), ("start", "b"), ("a", "join"), ("b", "join")])
    states = {"start": done(), "a": done(), "b": StepState("running")}

    # when asking, then again once b is done
    before = next_steps(plan, states)
    states["b"] = done()
    after = next_steps(plan, states)

    # expect join only after both, with both as live inputs in edge order
    assert before.ready == ()
    assert after.ready == ("join",)
    assert after.live_inputs["join"] == ("a", "b")


def test_fan_out_makes_siblings_ready_together_in_plan_order():
    # given a trigger feeding three nodes
    plan = plan_of(
        [("start", "trigger.manual"), ("c", "data.set"), ("a", "data.set"), ("b", "data.set")],
        [("start", "a"), ("start", "b"), ("start", "c")])

    # when the trigger is done
    progress = next_steps(plan, {"start": done()})

    # expect all three, in plan (file) order
    assert progress.ready == ("c", "a", "b")


def test_node_fed_by_both_branches_of_an_if_still_runs():
    # given a node wired to both ports of an if
    plan = plan_of(
        [("start", "trigger.manual"), ("check", "flow.if"), ("after", "data.set")],
        [("start", "check"), ("check", "true", "after"), ("check", "false", "after")])

    for port in ("true", "false"):
        # when the if chose either port
        progress = next_steps(plan, {"start": done(), "check": done(port)})

        # expect the node to run, with the if as its one input
        assert progress.ready == ("after",), port
        assert progress.live_inputs["after"] == ("check",)
        assert progress.skipped == ()


def test_nothing_is_reported_twice():
    # given every step already recorded
    plan = if_plan()
    states = {"start": done(), "check": done("true"), "yes": done(), "yes2": done(),
              "no": StepState(SKIPPED), "end": done()}

    # when asking what can happen
    progress = next_steps(plan, states)

    # expect nothing
    assert progress.ready == ()
    assert progress.skipped == ()


def test_is_complete_only_when_every_step_succeeded_or_was_skipped():
    # given a plan part-way through, then finished, then with a failure
    plan = if_plan()
    partial = {"start": done(), "check": done("true"), "yes": done()}
    finished = {**partial, "yes2": done(), "no": StepState(SKIPPED), "end": done()}
    failed = {**finished, "end": StepState("failed")}

    # when asked whether the run is complete
    # expect only the finished one to be
    assert is_complete(plan, {}) is False
    assert is_complete(plan, partial) is False
    assert is_complete(plan, finished) is True
    assert is_complete(plan, failed) is False


def test_driving_a_run_to_the_end_with_next_steps_completes_it():
    # given the if plan and a driver that succeeds every ready step (the if picks false)
    plan = if_plan()
    states: dict[str, StepState] = {}
    ran: list[str] = []

    # when the driver loops until nothing changes
    for _ in range(10):
        progress = next_steps(plan, states)
        if not progress.ready and not progress.skipped:
            break
        for key in progress.skipped:
            states[key] = StepState(SKIPPED)
        for key in progress.ready:
            ran.append(key)
            states[key] = done("false" if key == "check" else None)

    # expect the false path run, the true path skipped, and the run complete
    assert ran == ["start", "check", "no", "end"]
    assert states["yes"].status == states["yes2"].status == SKIPPED
    assert is_complete(plan, states)
