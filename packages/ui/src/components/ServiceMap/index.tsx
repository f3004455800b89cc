import { useEffect, useRef, useState } from "react";
import cytoscape from "cytoscape";
import dagre from "cytoscape-dagre";
import type { Graph, GraphEdge } from "../../model/serviceMapGraph.js";
import { formatElapsed } from "../../model/format.js";
import "./style.css";

cytoscape.use(dagre);

interface Props {
  graph: Graph;
  dark: boolean;
  /** Clicking an edge shows its traffic. */
  onEdge(edge: GraphEdge): void;
}

/** Workloads as nodes grouped by namespace, one edge per protocol, laid out with dagre. */
export function ServiceMap({ graph, dark, onEdge }: Props) {
  const el = useRef<HTMLDivElement>(null);
  const onEdgeRef = useRef(onEdge);
  onEdgeRef.current = onEdge;
  const [hover, setHover] = useState<GraphEdge | undefined>();

  useEffect(() => {
    if (!el.current) return;
    const byId = new Map(graph.edges.map((e) => [e.id, e]));
    const fg = dark ? "#ddd" : "#222";
    const cy = cytoscape({
      container: el.current,
      elements: [
        ...graph.namespaces.map((n) => ({ data: { id: n.id, label: n.label }, classes: "namespace" })),
        ...graph.nodes.map((n) => ({ data: { id: n.id, label: n.label, parent: n.parent }, classes: n.kind })),
        ...graph.edges.map((e) => ({
          data: { id: e.id, source: e.source, target: e.target, label: e.label, err: e.errorRate > 0 ? 1 : 0 },
          classes: e.protocol,
        })),
      ],
      style: [
        { selector: "node", style: { label: "data(label)", color: fg, "font-size": 11, "background-color": "#2f7bd8", "text-valign": "bottom", "text-margin-y": 4, width: 22, height: 22 } },
        { selector: "node.external", style: { "background-color": "#888", shape: "diamond" } },
        { selector: "node.service", style: { shape: "round-rectangle" } },
        { selector: ".namespace", style: { "background-opacity": 0.06, "background-color": "#2f7bd8", "border-color": "#2f7bd8", "border-width": 1, "text-valign": "top", "font-weight": "bold", shape: "round-rectangle" } },
        { selector: "edge", style: { label: "data(label)", "font-size": 10, color: fg, width: 2, "curve-style": "bezier", "target-arrow-shape": "triangle", "line-color": "#7a8ca3", "target-arrow-color": "#7a8ca3", "text-background-color": dark ? "#1b1e23" : "#fff", "text-background-opacity": 0.8, "text-rotation": "autorotate" } },
        { selector: "edge.redis", style: { "line-color": "#c8372d", "target-arrow-color": "#c8372d" } },
        { selector: "edge.kafka", style: { "line-color": "#555", "target-arrow-color": "#555", "line-style": "dashed" } },
        { selector: "edge[err = 1]", style: { "line-color": "#e0443a", "target-arrow-color": "#e0443a", width: 3 } },
      ],
      layout: { name: "dagre", rankDir: "LR", nodeSep: 40, rankSep: 120, padding: 20 } as cytoscape.LayoutOptions,
      wheelSensitivity: 0.3,
    });
    cy.on("tap", "edge", (ev) => {
      const edge = byId.get(ev.target.id() as string);
      if (edge) onEdgeRef.current(edge);
    });
    cy.on("mouseover", "edge", (ev) => setHover(byId.get(ev.target.id() as string)));
    cy.on("mouseout", "edge", () => setHover(undefined));
    return () => cy.destroy();
  }, [graph, dark]);

  return (
    <div className="servicemap">
      <div className="servicemap-canvas" ref={el} data-testid="servicemap" data-nodes={graph.nodes.length} data-edges={graph.edges.length} />
      {graph.nodes.length === 0 && <div className="servicemap-empty">No traffic yet for this filter.</div>}
      {hover && (
        <div className="servicemap-hover" role="tooltip">
          <strong>{hover.srcNode.label} → {hover.dstNode.label}</strong> ({hover.protocol})
          <div>{hover.count} requests, {(hover.errorRate * 100).toFixed(1)}% errors</div>
          <div>p50 {formatElapsed(hover.p50)} · p95 {formatElapsed(hover.p95)} · p99 {formatElapsed(hover.p99)}</div>
          <div className="muted">click to show this traffic</div>
        </div>
      )}
      <table className="servicemap-edges" aria-label="service map edges">
        <thead>
          <tr><th>source</th><th>destination</th><th>protocol</th><th>requests</th><th>errors</th><th>p50</th><th>p95</th><th>p99</th></tr>
        </thead>
        <tbody>
          {graph.edges.map((e) => (
            <tr key={e.id} onClick={() => onEdge(e)} className={e.errorRate > 0 ? "bad" : undefined}>
              <td>{e.srcNode.label}</td><td>{e.dstNode.label}</td><td>{e.protocol}</td><td>{e.count}</td>
              <td>{(e.errorRate * 100).toFixed(1)}%</td><td>{formatElapsed(e.p50)}</td><td>{formatElapsed(e.p95)}</td><td>{formatElapsed(e.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
