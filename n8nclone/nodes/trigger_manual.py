"""`trigger.manual`: started by the Run button, the CLI or the API."""

from n8nclone.nodes.base import NodeContext, NodeType
from n8nclone.nodes.schema import Param


class ManualTrigger(NodeType):
    type = "trigger.manual"
    label = "Manual trigger"
    group = "trigger"
    is_trigger = True
    description = ("Starts the workflow from the Run button, the CLI or the API. "
                   "Outputs the run's input.")
    params = (
        Param("sample_data", "json", help="Example input, used by the editor's Run button."),
    )

    def execute(self, ctx: NodeContext, params: dict):
        return ctx.trigger


NODE_TYPE = ManualTrigger
