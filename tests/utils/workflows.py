"""Workflow files for tests."""

from __future__ import annotations


def chain(name: str, length: int, *, first_params: dict | None = None) -> dict:
    """trigger.manual -> `length` data.set nodes in a line."""
    nodes = [{"key": "start", "type": "trigger.manual"}]
    edges = []
    previous = "start"
    for i in range(length):
        key = f"step{i}"
        nodes.append({"key": key, "type": "data.set",
                      "params": {"values": {"index": i, "seen": "{{ trigger }}"}}})
        edges.append({"from": previous, "to": key})
        previous = key
    return {"name": name, "nodes": nodes, "edges": edges}


def http_chain(name: str, urls: list[str], **settings) -> dict:
    """trigger.manual -> one http.request per URL, in a line."""
    nodes = [{"key": "start", "type": "trigger.manual"}]
    edges = []
    previous = "start"
    for i, url in enumerate(urls):
        key = f"call{i}"
        nodes.append({"key": key, "type": "http.request", "params": {"url": url,
                                                                      "timeout": 60}})
        edges.append({"from": previous, "to": key})
        previous = key
    return {"name": name, "settings": settings, "nodes": nodes, "edges": edges}
