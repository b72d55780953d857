"""`data.set`: builds an object from expressions."""

from n8nclone.engine.errors import NonRetriableError
from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param


class DataSet(NodeType):
    type = "data.set"
    label = "Set data"
    group = "data"
    description = "Builds an object from fixed values and expressions."
    params = (
        Param("values", "json", default={}, required=True,
              help="Object to output; values may be templates, "
                   'e.g. {"email": "{{ trigger.body.email }}"}.'),
        Param("mode", "options", default="replace", options=("replace", "merge"),
              help="replace: output only these values; merge: add them to the input object."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        values = params["values"]
        if params["mode"] == "replace":
            return values
        base = ctx.input
        if not isinstance(base, dict) or not isinstance(values, dict):
            raise NonRetriableError("mode 'merge' needs an object input and object values")
        return {**base, **values}


NODE_TYPE = DataSet
