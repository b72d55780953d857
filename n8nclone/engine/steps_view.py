"""The `steps` name of expressions: step outputs, loaded lazily from the store."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from n8nclone.store.runs import StepRecord


class StepsView(Mapping):
    """`steps.<key>.output` for every succeeded step; an output is read on first use."""

    def __init__(self, records: Mapping[str, StepRecord], outputs: dict[str, Any],
                 load_output: Callable[[str], Any]):
        self._records = records
        self._outputs = outputs
        self._load_output = load_output

    def output(self, key: str) -> Any:
        if key not in self._outputs:
            self._outputs[key] = self._load_output(key)
        return self._outputs[key]

    def __getitem__(self, key: str) -> dict:
        record = self._records.get(key)
        if record is None or record.status != "succeeded":
            raise KeyError(key)
        return {"output": self.output(key), "status": record.status, "port": record.port}

    def __iter__(self) -> Iterator[str]:
        return (k for k, r in self._records.items() if r.status == "succeeded")

    def __len__(self) -> int:
        return sum(1 for _ in self)
