"""`flow.if`: routes its input to port `true` or `false`."""

from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import NodeContext, NodeType, Routed
from n8nclone.nodes.schema import Param

_FALSE_WORDS = {"", "false", "0", "no", "off", "null", "none"}


def truthy(value) -> bool:
    """Truth of a rendered condition; text such as "false" or "0" is false."""
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_WORDS
    return bool(value)


class If(NodeType):
    type = "flow.if"
    label = "If"
    group = "flow"
    description = ("Sends its input on to port true or false. Nodes only reachable through "
                   "the other port are skipped.")
    outputs = ("true", "false")
    params = (
        Param("condition", "string", required=True,
              help="An expression, e.g. {{ trigger.body.total > 100 }}."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        condition = params["condition"]
        if isinstance(condition, (dict, list)):
            raise NonRetriableError("condition must be a value, not an object or list")
        return Routed(ctx.input, "true" if truthy(condition) else "false")


NODE_TYPE = If
