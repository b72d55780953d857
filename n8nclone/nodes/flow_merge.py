"""`flow.merge`: waits for all its non-skipped inputs, then combines their outputs."""

from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param


class Merge(NodeType):
    type = "flow.merge"
    label = "Merge"
    group = "flow"
    description = "Waits for every input that was not skipped, then combines their outputs."
    params = (
        Param("mode", "options", default="by_key", options=("by_key", "append", "merge"),
              help="by_key: {node key: output}; append: a list of outputs; merge: one object "
                   "with the keys of every (object) output."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        mode = params["mode"]
        if mode == "by_key":
            return dict(ctx.inputs)
        if mode == "append":
            return list(ctx.inputs.values())
        merged: dict = {}
        for key, output in ctx.inputs.items():
            if not isinstance(output, dict):
                raise NonRetriableError(f"mode 'merge' needs object outputs; '{key}' gave "
                                        f"{type(output).__name__}")
            merged.update(output)
        return merged


NODE_TYPE = Merge
