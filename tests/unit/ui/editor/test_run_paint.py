"""A run of the draft painted on its nodes."""

from __future__ import annotations

import json

from n8nclone.ui.editor.run_paint import shown_json, step_paint


def test_step_paint_queues_unreached_nodes_only_while_the_run_is_active() -> None:
    run = {"status": "running", "steps": [
        {"key": "start", "status": "succeeded", "attempts": 1, "output": {"a": 1}, "error": None},
        {"key": "call", "status": "retrying", "attempts": 2, "output": None,
         "error": {"message": "boom"}}]}
    status, details = step_paint(run, ["start", "call", "done"])
    assert status == {"start": "succeeded", "call": "retrying", "done": "queued"}
    assert details["call"]["error"] == json.dumps({"message": "boom"}, indent=2)
    assert details["start"]["output"].startswith("{")
    status, _ = step_paint({**run, "status": "failed"}, ["start", "call", "done"])
    assert "done" not in status


def test_shown_json_is_empty_for_none_and_cut_when_long() -> None:
    assert shown_json(None) == ""
    assert shown_json({"a": 1}) == '{\n  "a": 1\n}'
    assert shown_json("x" * 5000).endswith("characters, cut)")
