// The journey canvas's shared pieces, used by the builder and by the
// read-only view of a published version: the trigger and step nodes (with
// their problems and live counts from the canvas's context), the edges
// between them labelled with their exit and, while the journey runs, how
// many contacts took each, and the trip from a definition to nodes and
// edges and back.
import { createContext, useContext } from "react";
import {
  BaseEdge,
  EdgeLabelRenderer,
  getBezierPath,
  Handle,
  Position as HandlePosition,
  type Edge as FlowEdge,
  type EdgeProps,
  type Node as FlowNode,
  type NodeProps,
} from "@xyflow/react";
import type { JourneyStats } from "../api";
import { countOf } from "../plural";
import { delayMode, exitsOf, fromDefinition, layout, stepLabel, TRIGGER_ID, type Edge, type Graph, type Obj, type Settings, type Step } from "./graph";
import { edgeCounts, edgeId, edgeLabel, exitLabel, stepCountParts, type EdgeStat } from "./liveCounts";
import { reachedOf } from "./report";

export type StepNodeData = { step: Step };
export type TriggerNodeData = { settings: Settings };
export type CanvasNode = FlowNode<StepNodeData, "step"> | FlowNode<TriggerNodeData, "trigger">;

/** What every node on the canvas may show, by step id: the server's problems, the problems seen while editing, and live counts. */
export const CanvasInfo = createContext<{
  errors: Map<string, string[]>;
  problems: Map<string, string[]>;
  stats: Map<string, JourneyStats["nodes"][number]>;
}>({
  errors: new Map(),
  problems: new Map(),
  stats: new Map(),
});

/** Where the browser keeps the marketer's arrangement of a journey's canvas. */
export const layoutKey = (id: string) => `kairos.journeyLayout.${id}`;

/** A definition as canvas nodes and edges, placed where `saved` says or laid out top-down. */
export function toCanvas(def: Obj, saved: Record<string, { x: number; y: number }> | null): { nodes: CanvasNode[]; edges: FlowEdge[] } {
  const g = fromDefinition(def);
  const auto = layout(g);
  const pos = (id: string) => saved?.[id] ?? auto[id] ?? { x: 0, y: 0 };
  const nodes: CanvasNode[] = [
    { id: TRIGGER_ID, type: "trigger", position: pos(TRIGGER_ID), data: { settings: g.settings }, deletable: false },
    ...g.steps.map((s): CanvasNode => ({ id: s.id, type: "step", position: pos(s.id), data: { step: s } })),
  ];
  const edges = g.edges.map((e) => flowEdge(e.source, e.handle, e.target));
  return { nodes, edges };
}

/** The canvas edge from `source`'s exit `handle` to `target` (labelled as it is shown, by shownEdges). */
export function flowEdge(source: string, handle: string, target: string): FlowEdge {
  return { id: edgeId(source, handle), type: "labelled", source, sourceHandle: handle, target };
}

/**
 * The edges as the canvas shows them: each labelled with its exit when its
 * step has several (see exitLabel) and, while the journey runs, with how
 * many contacts took it (the trigger's edge with how many entered), for
 * edges the published graph has (see edgeCounts). `stepOf` gives a step by id.
 * The labels of a step's several exits sit at staggered points along their
 * edges, so that edges that meet at one step keep their labels apart.
 */
export function shownEdges(
  edges: FlowEdge[],
  stepOf: (id: string) => Step | undefined,
  stats: readonly EdgeStat[] | undefined,
  published: readonly Edge[] | null,
): FlowEdge[] {
  const plain = edges.map((e) => ({ source: e.source, handle: e.sourceHandle ?? "next", target: e.target }));
  const counts = stats ? edgeCounts(plain, stats, published) : new Map<string, number>();
  return edges.map((e, i) => {
    const handle = plain[i].handle;
    const step = stepOf(e.source);
    const exit = exitLabel(handle, step?.type);
    const exits = step ? exitsOf(step) : [];
    const at = exits.findIndex((x) => x.handle === handle);
    const labelAt = exits.length > 1 && at >= 0 ? 0.3 + (0.4 * at) / (exits.length - 1) : 0.5;
    const count = counts.get(edgeId(e.source, handle));
    if (count === undefined) return { ...e, label: exit, data: { ...e.data, labelAt } };
    const entry = e.source === TRIGGER_ID;
    return {
      ...e,
      label: edgeLabel(exit, count, entry),
      className: count > 0 ? "edge-taken" : "edge-untaken",
      ariaLabel: entry
        ? `Into ${e.target}: ${count.toLocaleString("en-US")} entered`
        : `From ${e.source}${exit ? ` (${exit})` : ""} to ${e.target}: ${countOf(count, "contact")}`,
      data: { ...e.data, count, labelAt },
    };
  });
}

/** The canvas back as steps and edges. */
export function toGraph(nodes: CanvasNode[], edges: FlowEdge[]): Graph {
  const trigger = nodes.find((n) => n.type === "trigger") as FlowNode<TriggerNodeData> | undefined;
  return {
    settings: trigger?.data.settings ?? { trigger: { type: "event", event: "" } },
    steps: nodes.filter((n) => n.type === "step").map((n) => (n.data as StepNodeData).step),
    edges: edges.map((e) => ({ source: e.source, handle: e.sourceHandle ?? "next", target: e.target })),
  };
}

/**
 * The server's refusals (red, announced) and the problems seen while editing
 * (amber, quiet), on a node: one line of counts and the first message, cut
 * short, so that a node is one line taller at most however much is wrong
 * with it, and does not grow over the steps below. Every message is in the
 * tooltip, in the side panel when the step is selected, and for screen readers.
 */
function NodeProblems({ errors, problems }: { errors?: string[]; problems?: string[] }) {
  const refused = errors ?? [];
  const toFix = problems ?? [];
  if (refused.length === 0 && toFix.length === 0) return null;
  const tooltip = [
    ...(refused.length > 0 ? ["Refused by the server:", ...refused.map((p) => `• ${p}`)] : []),
    ...(toFix.length > 0 ? ["To fix before publishing:", ...toFix.map((p) => `• ${p}`)] : []),
  ].join("\n");
  return (
    <div className="flow-node-flags" title={tooltip} data-testid="node-flags">
      <div className="flow-node-flag-row" aria-hidden="true">
        {refused.length > 0 && <span className="flag flag-refused">{refused.length} refused</span>}
        {toFix.length > 0 && <span className="flag flag-to-fix">{toFix.length} to fix</span>}
        <span className={refused.length > 0 ? "flow-node-error" : "flow-node-problem"}>{refused[0] ?? toFix[0]}</span>
      </div>
      {refused.length > 0 && (
        <ul className="sr-only" role="alert" aria-label="Refused by the server">
          {refused.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
      {toFix.length > 0 && (
        <ul className="sr-only" aria-label="To fix before publishing">
          {toFix.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

const problemClass = (errors?: string[], problems?: string[]) => (errors ? " invalid" : problems?.length ? " incomplete" : "");

function TriggerNode({ data, selected }: NodeProps<FlowNode<TriggerNodeData, "trigger">>) {
  const info = useContext(CanvasInfo);
  const t = data.settings.trigger;
  const errors = info.errors.get(TRIGGER_ID);
  const problems = info.problems.get(TRIGGER_ID);
  const what =
    t.type === "event"
      ? `When ${String(t.event || "an event")} happens`
      : t.type === "segment_entered"
        ? "When a contact enters a segment"
        : t.type === "segment_exited"
          ? "When a contact leaves a segment"
          : t.type === "api"
            ? "When put in through the API"
            : t.type === "form_submitted"
              ? `When form ${String(t.form ?? "")} is submitted`
              : String(t.type);
  return (
    <div className={`flow-node trigger${selected ? " selected" : ""}${problemClass(errors, problems)}`} data-testid="node-trigger">
      <div className="flow-node-type">Trigger</div>
      <div className="flow-node-title" title={what}>
        {what}
      </div>
      <NodeProblems errors={errors} problems={problems} />
      <Handle type="source" position={HandlePosition.Bottom} id="start" />
    </div>
  );
}

function StepNode({ id, data, selected }: NodeProps<FlowNode<StepNodeData, "step">>) {
  const info = useContext(CanvasInfo);
  const exits = exitsOf(data.step);
  const errors = info.errors.get(id);
  const problems = info.problems.get(id);
  const s = info.stats.get(id);
  const what = summary(data.step);
  return (
    <div className={`flow-node step-${data.step.type}${selected ? " selected" : ""}${problemClass(errors, problems)}`} data-testid={`node-${id}`}>
      <Handle type="target" position={HandlePosition.Top} />
      <div className="flow-node-type">{stepLabel(data.step.type)}</div>
      <div className="flow-node-title" title={what}>
        {what}
      </div>
      <div className="flow-node-id">{id}</div>
      {s && (
        <div className="flow-node-stats" data-testid={`stats-${id}`} title={JSON.stringify({ now: s.current, outcomes: s.outcomes })}>
          {stepCountParts(data.step.type, s.current, reachedOf(s.outcomes)).map((part, i) => (
            <span key={i}>
              {i > 0 && " · "}
              {part}
            </span>
          ))}
        </div>
      )}
      <NodeProblems errors={errors} problems={problems} />
      {exits.length > 0 && (
        <div className="flow-node-exits">
          {exits.map((x) => (
            <span key={x.handle} className="exit-label">
              {exits.length > 1 ? x.label : ""}
            </span>
          ))}
        </div>
      )}
      {exits.map((x, i) => (
        <Handle
          key={x.handle}
          type="source"
          id={x.handle}
          position={HandlePosition.Bottom}
          style={{ left: `${((i + 1) / (exits.length + 1)) * 100}%` }}
          title={x.label}
        />
      ))}
    </div>
  );
}

/**
 * An edge with its label in the HTML layer above the steps, so that a count
 * stays readable where an edge passes behind a step.
 */
function LabelledEdge({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, label, markerEnd, style, data }: EdgeProps) {
  const [path, midX, midY] = getBezierPath({ sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition });
  const [x, y] = (typeof data?.labelAt === "number" && pointOnCurve(path, data.labelAt)) || [midX, midY];
  const counted = typeof data?.count === "number";
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} />
      {label && (
        <EdgeLabelRenderer>
          <div
            className={`edge-label${counted ? ((data.count as number) > 0 ? " taken" : " counted") : ""}`}
            style={{ transform: `translate(-50%, -50%) translate(${x}px, ${y}px)` }}
            data-testid={`edge-label-${id}`}
          >
            {label}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

/** The point at `t` (0–1) along a cubic Bézier path "M x,y C x,y x,y x,y", or null for another path. */
function pointOnCurve(path: string, t: number): [number, number] | null {
  const n = path.match(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g)?.map(Number);
  if (!n || n.length !== 8) return null;
  const [x0, y0, x1, y1, x2, y2, x3, y3] = n;
  const u = 1 - t;
  const at = (a: number, b: number, c: number, d: number) => u * u * u * a + 3 * u * u * t * b + 3 * u * t * t * c + t * t * t * d;
  return [at(x0, x1, x2, x3), at(y0, y1, y2, y3)];
}

export const edgeTypes = { labelled: LabelledEdge };

export const nodeTypes = { step: StepNode, trigger: TriggerNode };

function duration(d: unknown): string {
  if (typeof d !== "object" || d === null) return "?";
  return Object.entries(d as Obj)
    .map(([k, v]) => `${String(v)} ${k}`)
    .join(" ");
}

/** One line saying what a step does. */
function summary(step: Step): string {
  const c = step.config;
  switch (step.type) {
    case "delay":
      return delayMode(c) === "best" ? "until their best hour" : c.until ? `until ${String((c.until as Obj).at ?? "09:00")}` : `wait ${duration(c.duration)}`;
    case "wait_event":
      return `${String(c.event || "an event")}, up to ${duration(c.timeout)}`;
    case "branch":
      return `${countOf((c.branches as unknown[] | undefined)?.length ?? 0, "branch", "branches")} + otherwise`;
    case "split":
      return ((c.paths as Obj[] | undefined) ?? []).map((p) => String(p.weight)).join(" / ");
    case "send":
      return `${String(c.channel ?? "email")}: ${String(c.template || "no template")}`;
    case "update_contact":
      return Object.keys((c.set as Obj) ?? {}).join(", ") || "no fields yet";
    case "change_score":
      return `${String(c.score)} ${Number(c.by) >= 0 ? "+" : ""}${String(c.by)}`;
    case "webhook":
      return String(c.endpoint || "no endpoint");
    case "notify":
      return String(c.message || "no message");
    default:
      return "";
  }
}
