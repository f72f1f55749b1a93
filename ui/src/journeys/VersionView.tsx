// A published version of a journey on a read-only canvas (?version=N on the
// journey's page): marked as the version running now or as a past one, with
// the draft a click away. Steps can be selected to read their settings but
// nothing can be moved, joined or changed. The current version shows the
// live counts (the stats count its graph); a past one shows none.
import { useCallback, useMemo, useState } from "react";
import { Background, Controls, ReactFlow, ReactFlowProvider, type NodeChange } from "@xyflow/react";
import type { JourneyStats, JourneyVersion } from "../api";
import { formatWhen } from "../components";
import type { Catalog } from "../segments/catalog";
import { CanvasInfo, edgeTypes, layoutKey, nodeTypes, shownEdges, toCanvas, type CanvasNode, type StepNodeData, type TriggerNodeData } from "./canvas";
import { fromDefinition, TRIGGER_ID } from "./graph";
import { StepPanel, TriggerPanel } from "./panels";

interface Props {
  journeyId: string;
  version: JourneyVersion;
  /** The version the journey runs now. */
  current: number;
  catalog: Catalog | null | undefined;
  stats: JourneyStats | undefined;
  onBack: () => void;
}

export function VersionView(props: Props) {
  // A canvas of its own: the builder's canvas (and its unsaved changes) stays as it was.
  return (
    <ReactFlowProvider>
      <VersionCanvas {...props} />
    </ReactFlowProvider>
  );
}

const none = () => {};

function VersionCanvas({ journeyId, version, current, catalog, stats, onBack }: Props) {
  const [selected, setSelected] = useState<string | null>(null);
  const isCurrent = version.version === current;
  const canvas = useMemo(() => {
    let saved = null;
    try {
      saved = JSON.parse(localStorage.getItem(layoutKey(journeyId)) ?? "null");
    } catch {
      saved = null;
    }
    // The draft's arrangement, if it places every step of this version; else laid out anew.
    const ids = [TRIGGER_ID, ...Object.keys((version.definition.nodes ?? {}) as object)];
    return toCanvas(version.definition, saved && ids.every((id) => saved[id]) ? saved : null);
  }, [journeyId, version]);
  const published = useMemo(() => fromDefinition(version.definition).edges, [version]);
  // Only the current version's edges are what the stats count.
  const edges = useMemo(() => {
    const steps = new Map(fromDefinition(version.definition).steps.map((s) => [s.id, s]));
    return shownEdges(canvas.edges, (id) => steps.get(id), isCurrent ? stats?.edges : undefined, published);
  }, [version, isCurrent, canvas, stats, published]);
  const nodes = useMemo(
    () => canvas.nodes.map((n) => ({ ...n, selected: n.id === selected, draggable: false, connectable: false, deletable: false }) as CanvasNode),
    [canvas, selected],
  );
  const info = useMemo(
    () => ({ errors: new Map(), problems: new Map(), stats: isCurrent ? new Map((stats?.nodes ?? []).map((n) => [n.node, n])) : new Map() }),
    [isCurrent, stats],
  );
  const onNodesChange = useCallback((changes: NodeChange<CanvasNode>[]) => {
    for (const c of changes) if (c.type === "select") setSelected((s) => (c.selected ? c.id : s === c.id ? null : s));
  }, []);
  const node = nodes.find((n) => n.id === selected);
  const stepIds = canvas.nodes.filter((n) => n.type === "step").map((n) => n.id);

  return (
    <>
      <div className={`version-banner ${isCurrent ? "current" : "past"}`} role="status" data-testid="version-banner">
        <span>
          <strong>Version {version.version}</strong>, published {formatWhen(version.published_at)}:{" "}
          {isCurrent ? "the version running now, read-only. Changes are made on the draft." : `a past version, read-only. The journey runs version ${current} now.`}
        </span>
        <button type="button" onClick={onBack}>
          Back to the draft
        </button>
      </div>
      <div className="journey-layout read-only">
        <div className={`canvas version-canvas${isCurrent ? "" : " past"}`} data-testid="version-canvas">
          <CanvasInfo.Provider value={info}>
            <ReactFlow
              nodes={nodes}
              edges={edges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onPaneClick={() => setSelected(null)}
              nodesDraggable={false}
              nodesConnectable={false}
              edgesReconnectable={false}
              deleteKeyCode={null}
              fitView
              fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={20} />
              <Controls showInteractive={false} />
            </ReactFlow>
          </CanvasInfo.Provider>
        </div>
        <aside className="side-panel" aria-label="Selected step">
          <fieldset disabled className="plain">
            {!node && (
              <div className="muted">
                <h2>Version {version.version}</h2>
                <p>Select the trigger or a step to read its settings as they were published.</p>
              </div>
            )}
            {node && !catalog && <p className="muted">Loading pickers…</p>}
            {node?.type === "trigger" && catalog && (
              <TriggerPanel
                settings={(node.data as TriggerNodeData).settings}
                onChange={none}
                catalog={catalog}
                steps={stepIds}
                start={canvas.edges.find((e) => e.source === TRIGGER_ID)?.target ?? ""}
                onStart={none}
              />
            )}
            {node?.type === "step" && catalog && (
              <StepPanel
                key={node.id}
                step={(node.data as StepNodeData).step}
                steps={stepIds}
                edges={canvas.edges}
                onChange={none}
                onConnect={none}
                onExitRemoved={none}
                onRemove={none}
                catalog={catalog}
                readOnly
              />
            )}
          </fieldset>
        </aside>
      </div>
    </>
  );
}
