"""The workflow canvas: React Flow (`@xyflow/react`) wrapped as a Reflex component.

The browser keeps its own copy of the nodes and edges (React Flow's
`useNodesState`), so dragging never talks to the server on a mouse move; the
server hears about a drag when it stops, about a new edge when it is connected,
about deletions and about a node type dropped from the palette. Whenever the
server sends new `nodes` / `edges` props the local copy is replaced (the
current selection is kept).

Nodes use one custom type, `n8n`: a box with the node's key and type, an input
handle on top (none for triggers) and one output handle per port at the
bottom, labelled when the port is not `main` (`flow.if`: `true` / `false`).
A node's data may carry `problem` (a validation message: red border and badge)
and `status` (its step's status in the last run: coloured border and label).

While `dirty` is true the wrapper also warns before the page is left: the
browser's `beforeunload` prompt, and a confirm() for in-app links.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec, passthrough_event_spec

XYFLOW = "@xyflow/react@12.12.1"
DRAG_MIME = "application/x-n8n-node-type"  # what a palette item carries in dataTransfer

# Module-level JS (deduplicated per page): the custom node and the wrapper component.
# Written with `jsx(...)` calls like Reflex's own compiled pages.
CANVAS_JS = """
const N8N_DRAG_MIME = "__DRAG_MIME__";
const N8N_STATUS_COLORS = {
  queued: "var(--gray-9)", running: "var(--blue-9)", retrying: "var(--amber-9)",
  succeeded: "var(--green-9)", failed: "var(--red-9)", skipped: "var(--gray-7)",
  waiting: "var(--violet-9)", sleeping: "var(--violet-9)", cancelled: "var(--gray-10)",
};

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
  const status = data.status || "";
  const statusColor = N8N_STATUS_COLORS[status];
  const border = data.problem ? "var(--red-9)" : (statusColor || (selected ? "var(--accent-9)"
                                                                           : "var(--gray-7)"));
  return jsx("div", {
      className: "n8n-node" + (data.problem ? " n8n-node-problem" : "")
                 + (status ? ` n8n-status-${status}` : ""),
      "data-node-type": data.type,
      "data-status": status,
      "data-problem": data.problem ? "true" : "false",
      title: data.problem || undefined,
      style: {
        position: "relative", padding: "8px 12px", minWidth: "150px", borderRadius: "8px",
        background: "var(--color-panel-solid, white)",
        border: `${data.problem || statusColor ? 2 : 1}px solid ${border}`,
        boxShadow: selected ? "0 0 0 2px var(--accent-5)" : "none",
      },
    },
    data.is_trigger ? null : jsx(Handle, { type: "target", position: Position.Top, id: "in" }),
    jsx("div", { className: "n8n-node-key", style: { fontWeight: 600, fontSize: "13px" } },
        data.label),
    jsx("div", { className: "n8n-node-type", style: { fontSize: "11px", color: "var(--gray-11)" } },
        data.type),
    status ? jsx("div", {
      className: "n8n-node-status",
      style: { position: "absolute", top: "-9px", right: "8px", fontSize: "10px",
               padding: "0 6px", borderRadius: "8px", color: "white", background: statusColor },
    }, status) : null,
    data.problem ? jsx("div", {
      className: "n8n-node-problem-badge",
      style: { position: "absolute", top: "-9px", left: "8px", fontSize: "10px",
               padding: "0 6px", borderRadius: "8px", color: "white",
               background: "var(--red-9)" },
    }, "problem") : null,
    ...handles);
}

const N8N_NODE_TYPES = { n8n: N8nFlowNode };

// Leaving with unsaved changes: the browser's own prompt on unload, confirm() on app links.
function useN8nLeaveGuard(dirty) {
  useEffect(() => {
    if (!dirty) return undefined;
    const warn = (event) => { event.preventDefault(); event.returnValue = ""; return ""; };
    const guard = (event) => {
      const link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
      if (!link || link.target === "_blank" || link.getAttribute("href").startsWith("#")) return;
      if (!window.confirm("You have unsaved changes. Leave without saving?")) {
        event.preventDefault();
        event.stopPropagation();
      }
    };
    window.addEventListener("beforeunload", warn);
    document.addEventListener("click", guard, true);
    return () => {
      window.removeEventListener("beforeunload", warn);
      document.removeEventListener("click", guard, true);
    };
  }, [dirty]);
}

// Palette items (any element with data-palette-type) carry their node type when dragged.
function useN8nPaletteDrag() {
  useEffect(() => {
    const start = (event) => {
      const item = event.target && event.target.closest
        ? event.target.closest("[data-palette-type]") : null;
      if (!item) return;
      event.dataTransfer.setData(N8N_DRAG_MIME, item.getAttribute("data-palette-type"));
      event.dataTransfer.effectAllowed = "copyMove";
    };
    document.addEventListener("dragstart", start);
    return () => document.removeEventListener("dragstart", start);
  }, []);
}

function N8nFlowCanvas({ nodes: serverNodes, edges: serverEdges, onNodesDelete, onEdgesDelete,
                         onConnect, onNodeDragStop, onNodeClick, onEdgeClick, onPaneClick,
                         onDropNode, dirty, ...rest }) {
  const [nodes, setNodes, onNodesChange] = useNodesState(serverNodes || []);
  const [edges, setEdges, onEdgesChange] = useEdgesState(serverEdges || []);
  const flow = useRef(null);
  useN8nLeaveGuard(!!dirty);
  useN8nPaletteDrag();
  useEffect(() => {
    setNodes((current) => {
      const selected = new Set(current.filter((n) => n.selected).map((n) => n.id));
      return (serverNodes || []).map((n) => (selected.has(n.id) ? { ...n, selected: true } : n));
    });
  }, [serverNodes]);
  useEffect(() => {
    setEdges((current) => {
      const selected = new Set(current.filter((e) => e.selected).map((e) => e.id));
      return (serverEdges || []).map((e) => (selected.has(e.id) ? { ...e, selected: true } : e));
    });
  }, [serverEdges]);
  const connect = useCallback((c) => {
    setEdges((current) => addEdge(c, current));
    if (onConnect) onConnect({ source: c.source, target: c.target,
                               sourceHandle: c.sourceHandle || "main" });
  }, [onConnect]);
  const dragStop = useCallback((_event, _node, dragged) => {
    if (onNodeDragStop) onNodeDragStop((dragged || [_node]).map((n) => ({
      id: n.id, x: Math.round(n.position.x), y: Math.round(n.position.y) })));
  }, [onNodeDragStop]);
  const dragOver = useCallback((event) => {
    if (Array.from(event.dataTransfer.types || []).includes(N8N_DRAG_MIME)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  }, []);
  const drop = useCallback((event) => {
    const type = event.dataTransfer.getData(N8N_DRAG_MIME);
    if (!type || !flow.current) return;
    event.preventDefault();
    const at = flow.current.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    // The drop point is the new node's centre (a node is about 150 x 44).
    if (onDropNode) onDropNode(type, Math.round(at.x - 75), Math.round(at.y - 22));
  }, [onDropNode]);
  return jsx("div", { className: "n8n-canvas", style: { width: "100%", height: "100%" } },
    jsx(ReactFlow, {
      nodes, edges, onNodesChange, onEdgesChange, nodeTypes: N8N_NODE_TYPES,
      onConnect: connect, onNodeDragStop: dragStop, onDragOver: dragOver, onDrop: drop,
      onInit: (instance) => { flow.current = instance; },
      deleteKeyCode: ["Backspace", "Delete"],
      onNodesDelete: (deleted) => onNodesDelete && onNodesDelete(deleted.map((n) => n.id)),
      onEdgesDelete: (deleted) => onEdgesDelete && onEdgesDelete(deleted.map((e) => e.id)),
      onNodeClick: (_event, node) => onNodeClick && onNodeClick(node.id),
      onEdgeClick: (_event, edge) => onEdgeClick && onEdgeClick(edge.id),
      onPaneClick: () => onPaneClick && onPaneClick(),
      fitView: true, fitViewOptions: { padding: 0.3, maxZoom: 1 }, ...rest },
      jsx(Background, { gap: 16 }),
      jsx(Controls, {})));
}
""".replace("__DRAG_MIME__", DRAG_MIME)


class FlowCanvas(rx.Component):
    """React Flow with a background grid and zoom controls, fed by server state."""

    tag = "N8nFlowCanvas"  # defined in CANVAS_JS, not imported
    library = None

    nodes: rx.Var[list[dict[str, Any]]]
    edges: rx.Var[list[dict[str, Any]]]
    # Unsaved changes: warn before the page is left.
    dirty: rx.Var[bool]
    # Extra React Flow props, passed through (e.g. `snapToGrid`).
    snap_to_grid: rx.Var[bool]

    # Nodes whose drag ended: [{"id", "x", "y"}] (several when a selection was dragged).
    on_node_drag_stop: rx.EventHandler[passthrough_event_spec(list[dict[str, Any]])]
    # A new edge: {"source", "target", "sourceHandle"}.
    on_connect: rx.EventHandler[passthrough_event_spec(dict[str, Any])]
    # Ids of nodes / edges removed with the Delete or Backspace key.
    on_nodes_delete: rx.EventHandler[passthrough_event_spec(list[str])]
    on_edges_delete: rx.EventHandler[passthrough_event_spec(list[str])]
    on_node_click: rx.EventHandler[passthrough_event_spec(str)]
    on_edge_click: rx.EventHandler[passthrough_event_spec(str)]
    on_pane_click: rx.EventHandler[no_args_event_spec]
    # A palette item dropped on the canvas: (node type, x, y) in flow coordinates.
    on_drop_node: rx.EventHandler[passthrough_event_spec(str, int, int)]

    def add_imports(self) -> dict:
        return {
            "": "@xyflow/react/dist/style.css",
            XYFLOW: ["ReactFlow", "Background", "Controls", "Handle", "Position",
                     "useNodesState", "useEdgesState", "addEdge"],
            "react": ["Fragment", "useEffect", "useCallback", "useRef"],
            "@emotion/react": "jsx",
        }

    def add_custom_code(self) -> list[str]:
        return [CANVAS_JS]


flow_canvas = FlowCanvas.create


def palette_item(type_name: rx.Var | str, label: rx.Var | str, **props) -> rx.Component:
    """A node type in the palette: click to add it, or drag it onto the canvas."""
    return rx.box(
        rx.text(label, size="1", weight="medium"),
        custom_attrs={"draggable": "true", "data-palette-type": type_name,
                      "data-node-type": type_name},
        title=type_name,
        class_name="palette-item",
        padding_x="0.6em",
        padding_y="0.3em",
        border_radius="var(--radius-2)",
        background="var(--accent-3)",
        cursor="grab",
        width="100%",
        _hover={"background": "var(--accent-4)"},
        **props,
    )
