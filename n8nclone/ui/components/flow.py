"""The workflow canvas: React Flow (`@xyflow/react`) wrapped as a Reflex component.

The browser keeps its own copy of the nodes and edges (React Flow's
`useNodesState`), so dragging never talks to the server on a mouse move; the
server hears about a drag when it stops, about a new edge when it is connected
and about deletions. Whenever the server sends new `nodes` / `edges` props the
local copy is replaced (the current selection is kept).

Nodes use one custom type, `n8n`: a box with the node's key and type, an input
handle on top (none for triggers) and one output handle per port at the
bottom, labelled when the port is not `main` (`flow.if`: `true` / `false`).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec, passthrough_event_spec

XYFLOW = "@xyflow/react@12.12.1"

# Module-level JS (deduplicated per page): the custom node and the wrapper component.
# Written with `jsx(...)` calls like Reflex's own compiled pages.
CANVAS_JS = """
function N8nFlowNode({ data, selected }) {
  const outputs = data.outputs && data.outputs.length ? data.outputs : ["main"];
  const handles = outputs.map((port, index) => {
    const left = `${((index + 1) * 100) / (outputs.length + 1)}%`;
    return jsx(Fragment, { key: port },
      jsx(Handle, { type: "source", position: Position.Bottom, id: port, style: { left } }),
      port === "main" ? null : jsx("div", {
        className: "n8n-port-label",
        style: { position: "absolute", bottom: "-18px", left, transform: "translateX(-50%)",
                 fontSize: "10px", color: "var(--gray-11)" },
      }, port));
  });
  return jsx("div", {
      className: "n8n-node",
      "data-node-type": data.type,
      style: {
        padding: "8px 12px", minWidth: "150px", borderRadius: "8px",
        background: "var(--color-panel-solid, white)",
        border: `1px solid ${selected ? "var(--accent-9)" : "var(--gray-7)"}`,
        boxShadow: selected ? "0 0 0 2px var(--accent-5)" : "none",
      },
    },
    data.is_trigger ? null : jsx(Handle, { type: "target", position: Position.Top, id: "in" }),
    jsx("div", { className: "n8n-node-key", style: { fontWeight: 600, fontSize: "13px" } },
        data.label),
    jsx("div", { className: "n8n-node-type", style: { fontSize: "11px", color: "var(--gray-11)" } },
        data.type),
    ...handles);
}

const N8N_NODE_TYPES = { n8n: N8nFlowNode };

function N8nFlowCanvas({ nodes: serverNodes, edges: serverEdges, onNodesDelete, onEdgesDelete,
                         onConnect, onNodeDragStop, onNodeClick, onPaneClick, ...rest }) {
  const [nodes, setNodes, onNodesChange] = useNodesState(serverNodes || []);
  const [edges, setEdges, onEdgesChange] = useEdgesState(serverEdges || []);
  useEffect(() => {
    setNodes((current) => {
      const selected = new Set(current.filter((n) => n.selected).map((n) => n.id));
      return (serverNodes || []).map((n) => (selected.has(n.id) ? { ...n, selected: true } : n));
    });
  }, [serverNodes]);
  useEffect(() => { setEdges(serverEdges || []); }, [serverEdges]);
  const connect = useCallback((c) => {
    setEdges((current) => addEdge(c, current));
    if (onConnect) onConnect({ source: c.source, target: c.target,
                               sourceHandle: c.sourceHandle || "main" });
  }, [onConnect]);
  const dragStop = useCallback((_event, _node, dragged) => {
    if (onNodeDragStop) onNodeDragStop((dragged || [_node]).map((n) => ({
      id: n.id, x: Math.round(n.position.x), y: Math.round(n.position.y) })));
  }, [onNodeDragStop]);
  return jsx("div", { className: "n8n-canvas", style: { width: "100%", height: "100%" } },
    jsx(ReactFlow, {
      nodes, edges, onNodesChange, onEdgesChange, nodeTypes: N8N_NODE_TYPES,
      onConnect: connect, onNodeDragStop: dragStop,
      onNodesDelete: (deleted) => onNodesDelete && onNodesDelete(deleted.map((n) => n.id)),
      onEdgesDelete: (deleted) => onEdgesDelete && onEdgesDelete(deleted.map((e) => e.id)),
      onNodeClick: (_event, node) => onNodeClick && onNodeClick(node.id),
      onPaneClick: () => onPaneClick && onPaneClick(),
      fitView: true, fitViewOptions: { padding: 0.3, maxZoom: 1 }, ...rest },
      jsx(Background, { gap: 16 }),
      jsx(Controls, {})));
}
"""


class FlowCanvas(rx.Component):
    """React Flow with a background grid and zoom controls, fed by server state."""

    tag = "N8nFlowCanvas"  # defined in CANVAS_JS, not imported
    library = None

    nodes: rx.Var[list[dict[str, Any]]]
    edges: rx.Var[list[dict[str, Any]]]
    # Extra React Flow props, passed through (e.g. `snapToGrid`).
    snap_to_grid: rx.Var[bool]
    delete_key_code: rx.Var[str]

    # Nodes whose drag ended: [{"id", "x", "y"}] (several when a selection was dragged).
    on_node_drag_stop: rx.EventHandler[passthrough_event_spec(list[dict[str, Any]])]
    # A new edge: {"source", "target", "sourceHandle"}.
    on_connect: rx.EventHandler[passthrough_event_spec(dict[str, Any])]
    # Ids of nodes / edges removed with the delete key.
    on_nodes_delete: rx.EventHandler[passthrough_event_spec(list[str])]
    on_edges_delete: rx.EventHandler[passthrough_event_spec(list[str])]
    on_node_click: rx.EventHandler[passthrough_event_spec(str)]
    on_pane_click: rx.EventHandler[no_args_event_spec]

    def add_imports(self) -> dict:
        return {
            "": "@xyflow/react/dist/style.css",
            XYFLOW: ["ReactFlow", "Background", "Controls", "Handle", "Position",
                     "useNodesState", "useEdgesState", "addEdge"],
            "react": ["Fragment", "useEffect", "useCallback"],
            "@emotion/react": "jsx",
        }

    def add_custom_code(self) -> list[str]:
        return [CANVAS_JS]


flow_canvas = FlowCanvas.create
