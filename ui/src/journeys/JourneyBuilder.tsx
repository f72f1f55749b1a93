// The journey builder: a React Flow canvas with the trigger and the steps,
// a palette to drag (or add with the keyboard) new steps from, each placed
// clear of the steps already there, a side panel that configures the
// selected step, save as draft, publish, pause and resume, the server's
// validation errors shown on the steps at fault,
// the problems the canvas sees shown on the steps while the marketer edits,
// live counts on every step and edge from the stats endpoint while the
// journey runs, any published version opened read-only (?version=N), and
// the journey's report as a second tab (?view=report). The event catalogue
// behind the panels' event and property pickers is loaded once for the page.
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import {
  addEdge,
  applyEdgeChanges,
  applyNodeChanges,
  Background,
  Controls,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
  type Connection,
  type Edge as FlowEdge,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { api, ApiError, useApi, type Journey, type JourneyStats, type JourneyVersion } from "../api";
import { useCan } from "../session";
import { formatNumber, formatWhen, Loading, PageHeader, ProblemBox, StatusBadge, TabList } from "../components";
import { useCatalog } from "../segments/catalog";
import { EventCatalogProvider, EventCatalogStatus } from "../segments/EventCatalog";
import { exitsOf, freeSpot, fromDefinition, layout, newStepConfig, newStepId, NODE_GAP, NODE_SIZE, STEP_TYPES, stepBox, stepForPath, toDefinition, TRIGGER_ID, type Obj, type Settings, type Step } from "./graph";
import { CanvasInfo, edgeTypes, flowEdge, layoutKey, nodeTypes, toCanvas, toGraph, shownEdges, type CanvasNode, type StepNodeData, type TriggerNodeData } from "./canvas";
import { checkGraph, problemCount, serverProblems, type Problems, type ServerProblem } from "./check";
import { StepPanel, TriggerPanel } from "./panels";
import { VersionView } from "./VersionView";
import { countOf } from "../plural";

// The report brings the charts: fetched only when its tab is opened.
const JourneyReport = lazy(() => import("./JourneyReport").then((m) => ({ default: m.JourneyReport })));


/** The canvas is checked this long after the last change. */
const CHECK_AFTER_MS = 400;

const NEW_JOURNEY: Obj = {
  trigger: { type: "event", event: "Signed Up" },
  entry: { mode: "once" },
  nodes: {},
};

export function JourneyBuilder() {
  return (
    <ReactFlowProvider>
      <Builder />
    </ReactFlowProvider>
  );
}


const NO_NAMES: string[] = [];

function Builder() {
  const { id } = useParams();
  const canEdit = useCan()("marketing:write");
  const navigate = useNavigate();
  const isNew = !id;
  const flow = useReactFlow();
  const { catalog, error: catalogError } = useCatalog();
  const journey = useApi<Journey>(id ? `/api/v1/journeys/${id}` : null);
  const [name, setName] = useState("");
  const [nodes, setNodes] = useState<CanvasNode[]>([]);
  const [edges, setEdges] = useState<FlowEdge[]>([]);
  const [loadedFor, setLoadedFor] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  const [params, setParams] = useSearchParams();
  // Set when the canvas comes back (from the report or a version): it is framed anew as it mounts.
  const refit = useRef(false);
  const view: "canvas" | "report" = id && params.get("view") === "report" ? "report" : "canvas";
  const showView = (v: "canvas" | "report") => {
    setParams(v === "report" ? { view: "report" } : {}, { replace: true });
    // The canvas was away while the report showed: frame the steps again once it is back.
    if (v === "canvas") refit.current = true;
  };

  // Load the journey (or a new one) onto the canvas once.
  useEffect(() => {
    const key = id ?? "new";
    if (loadedFor === key) return;
    if (id && !journey.data) return;
    const def = journey.data?.definition ?? NEW_JOURNEY;
    let saved = null;
    try {
      saved = id ? JSON.parse(localStorage.getItem(layoutKey(id)) ?? "null") : null;
    } catch {
      saved = null;
    }
    const c = toCanvas(def, saved);
    setNodes(c.nodes);
    setEdges(c.edges);
    setName(journey.data?.name ?? "");
    setLoadedFor(key);
    setDirty(false);
    window.setTimeout(() => {
      if (c.nodes.length > 1) flow.fitView({ padding: 0.2, maxZoom: 1 });
      else {
        // Only the trigger: put it at the top, leaving the canvas below for new steps.
        const width = document.querySelector(".canvas")?.clientWidth ?? 600;
        flow.setViewport({ x: width / 2 - 105, y: 40, zoom: 1 });
      }
    }, 50);
  }, [id, journey.data, loadedFor, flow]);

  // Keep the marketer's arrangement of the canvas for next time.
  useEffect(() => {
    if (!id || loadedFor !== id) return;
    const pos = Object.fromEntries(nodes.map((n) => [n.id, n.position]));
    localStorage.setItem(layoutKey(id), JSON.stringify(pos));
  }, [id, nodes, loadedFor]);

  const running = journey.data && journey.data.status !== "draft";
  const stats = useApi<JourneyStats>(id && running ? `/api/v1/journeys/${id}/stats` : null, { pollMs: 5000 });

  const stepIds = nodes.filter((n) => n.type === "step").map((n) => n.id);
  const errors = useMemo(() => {
    const m = new Map<string, string[]>();
    if (problem instanceof ApiError)
      for (const e of problem.problem.errors ?? []) {
        const at = stepForPath(e.path, stepIds, e.message);
        if (at) m.set(at, [...(m.get(at) ?? []), e.message.replace(/^node "[^"]*": /, "")]);
      }
    return m;
    // stepIds is derived from nodes; the errors belong to the last answer.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [problem]);
  const statsByStep = useMemo(() => new Map((stats.data?.nodes ?? []).map((n) => [n.node, n])), [stats.data]);

  // The published versions: the current one's graph is the one the stats
  // count edges of, and any of them can be opened read-only (?version=N).
  const currentVersion = journey.data?.version ?? 0;
  const versions = useApi<{ data: JourneyVersion[] }>(id && currentVersion > 0 ? `/api/v1/journeys/${id}/versions?v=${currentVersion}` : null);
  const publishedEdges = useMemo(() => {
    const v = versions.data?.data.find((x) => x.version === currentVersion);
    return v ? fromDefinition(v.definition).edges : null;
  }, [versions.data, currentVersion]);
  const stepOf = useMemo(() => {
    const steps = new Map(nodes.flatMap((n) => (n.type === "step" ? [[n.id, (n.data as StepNodeData).step] as const] : [])));
    return (id: string) => steps.get(id);
  }, [nodes]);
  const labelledEdges = useMemo(() => shownEdges(edges, stepOf, stats.data?.edges, publishedEdges), [edges, stepOf, stats.data, publishedEdges]);
  const versionParam = Number(params.get("version") ?? "");
  const shownVersion = view === "canvas" && Number.isInteger(versionParam) && versionParam > 0 ? versionParam : null;
  const openVersion = (v: number | null) => {
    setParams(v === null ? {} : { version: String(v) });
    // The draft's canvas was away while the version showed: frame its steps again once it is back.
    if (v === null) refit.current = true;
  };

  // What the canvas sees wrong, a moment after the marketer stops changing it.
  const draftJson = useMemo(
    () => (loadedFor === (id ?? "new") ? JSON.stringify(toDefinition(toGraph(nodes, edges))) : null),
    [nodes, edges, loadedFor, id],
  );
  const [problems, setProblems] = useState<Problems>(() => new Map());
  // The draft the shown problems are of: until it is the current one, the
  // canvas says its check is pending (aria-busy), as the marks may still move.
  const [checkedFor, setCheckedFor] = useState<string | null>(null);
  useEffect(() => {
    if (draftJson === null) return;
    const ask = new AbortController();
    const t = window.setTimeout(() => {
      const local = checkGraph(fromDefinition(JSON.parse(draftJson) as Obj));
      setProblems(local);
      // A whole graph goes to the server, which knows the workspace: the
      // templates, endpoints and fields it names.
      if (problemCount(local) > 0) {
        setCheckedFor(draftJson);
        return;
      }
      api<{ problems: ServerProblem[] }>("POST", "/api/v1/journeys/check", { definition: JSON.parse(draftJson) }, { signal: ask.signal })
        .then((r) => setProblems(serverProblems(r.problems)))
        .catch(() => {
          // The check is a help while editing; publishing checks again and
          // says what is wrong, so a failed check changes nothing here.
        })
        .finally(() => setCheckedFor(draftJson));
    }, CHECK_AFTER_MS);
    return () => {
      window.clearTimeout(t);
      ask.abort();
    };
  }, [draftJson]);
  const problemTotal = problemCount(problems);

  const onNodesChange = useCallback((changes: NodeChange<CanvasNode>[]) => {
    // Positions are kept in the browser at once; only removals change the definition.
    if (changes.some((c) => c.type === "remove")) setDirty(true);
    setNodes((ns) => {
      const removed = new Set(changes.filter((c) => c.type === "remove").map((c) => (c as { id: string }).id));
      if (removed.size > 0) setEdges((es) => es.filter((e) => !removed.has(e.source) && !removed.has(e.target)));
      return applyNodeChanges(changes, ns);
    });
    for (const c of changes) if (c.type === "select" && c.selected) setSelected(c.id);
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    if (changes.some((c) => c.type === "remove")) setDirty(true);
    setEdges((es) => applyEdgeChanges(changes, es));
  }, []);

  const connect = useCallback((source: string, handle: string, target: string | null) => {
    setDirty(true);
    setEdges((es) => {
      const rest = es.filter((e) => !(e.source === source && (e.sourceHandle ?? "next") === handle));
      return target ? addEdge(flowEdge(source, handle, target), rest) : rest;
    });
  }, []);

  const onConnect = useCallback(
    (c: Connection) => {
      if (c.source && c.target && c.source !== c.target) connect(c.source, c.sourceHandle ?? "next", c.target);
    },
    [connect],
  );

  /** Add a step where it was dropped, or below the others from the keyboard; moved aside if it would cover a step. */
  function addStep(type: string, position?: { x: number; y: number }) {
    const sid = newStepId(type, nodes.map((n) => n.id));
    const boxes = nodes.map((n) => stepBox(n.position, n.measured));
    const want = position ?? { x: 0, y: Math.max(0, ...boxes.map((b) => b.y + b.height)) + NODE_GAP };
    const at = freeSpot(want, NODE_SIZE, boxes);
    const step: Step = { id: sid, type, config: newStepConfig(type) };
    setNodes((ns) => [...ns.map((n) => ({ ...n, selected: false })), { id: sid, type: "step", position: at, data: { step }, selected: true }]);
    setSelected(sid);
    setDirty(true);
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    const type = e.dataTransfer.getData("application/x-kairos-step");
    if (!type) return;
    addStep(type, flow.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
  }

  function updateStep(sid: string, config: Obj) {
    setDirty(true);
    setNodes((ns) => ns.map((n) => (n.id === sid && n.type === "step" ? { ...n, data: { step: { ...n.data.step, config } } } : n)));
    // A branch or split that lost exits loses their edges.
    setEdges((es) => {
      const node = nodes.find((n) => n.id === sid);
      if (!node || node.type !== "step") return es;
      const handles = new Set(exitsOf({ type: node.data.step.type, config }).map((x) => x.handle));
      return es.filter((e) => e.source !== sid || handles.has(e.sourceHandle ?? "next"));
    });
  }

  /** Lay the canvas out anew, top-down from the trigger. */
  function tidy() {
    const pos = layout(toGraph(nodes, edges));
    setNodes((ns) => ns.map((n) => ({ ...n, position: pos[n.id] ?? n.position })));
    window.setTimeout(() => flow.fitView({ padding: 0.2, maxZoom: 1 }), 50);
  }

  /** A branch or split path was removed: the exits after it move up one place. */
  function exitRemoved(sid: string, prefix: "branch" | "path", index: number) {
    setEdges((es) =>
      es.flatMap((e) => {
        const h = e.sourceHandle ?? "next";
        if (e.source !== sid || !h.startsWith(`${prefix}:`)) return [e];
        const i = Number(h.slice(prefix.length + 1));
        if (i === index) return [];
        return [i > index ? flowEdge(sid, `${prefix}:${i - 1}`, e.target) : e];
      }),
    );
  }

  function updateSettings(settings: Settings) {
    setDirty(true);
    setNodes((ns) => ns.map((n) => (n.type === "trigger" ? { ...n, data: { settings } } : n)));
  }

  function removeStep(sid: string) {
    setDirty(true);
    setNodes((ns) => ns.filter((n) => n.id !== sid));
    setEdges((es) => es.filter((e) => e.source !== sid && e.target !== sid));
    setSelected(null);
  }

  async function run(label: string, f: () => Promise<void>) {
    setBusy(label);
    setProblem(null);
    setNote(null);
    try {
      await f();
    } catch (e) {
      setProblem(e);
    } finally {
      setBusy(null);
    }
  }

  const definition = () => toDefinition(toGraph(nodes, edges));

  const saveDraft = () =>
    run("save", async () => {
      const body = { name: name.trim(), definition: definition() };
      if (isNew) {
        const j = await api<Journey>("POST", "/api/v1/journeys", body);
        localStorage.setItem(layoutKey(j.id), JSON.stringify(Object.fromEntries(nodes.map((n) => [n.id, n.position]))));
        setLoadedFor(j.id);
        navigate(`/journeys/${j.id}`, { replace: true });
      } else {
        await api<Journey>("PATCH", `/api/v1/journeys/${id}`, body);
        setNote("Draft saved.");
        setDirty(false);
        journey.reload();
      }
    });

  const publish = () =>
    run("publish", async () => {
      await api<Journey>("PATCH", `/api/v1/journeys/${id}`, { name: name.trim(), definition: definition() });
      setDirty(false);
      const j = await api<Journey>("POST", `/api/v1/journeys/${id}/publish`);
      setNote(`Published as version ${j.version}.`);
      journey.reload();
    });

  const setStatus = (action: "pause" | "resume" | "archive") =>
    run(action, async () => {
      await api<Journey>("POST", `/api/v1/journeys/${id}/${action}`);
      setNote(action === "pause" ? "Paused: no one enters or moves." : action === "resume" ? "Resumed." : "Archived.");
      journey.reload();
    });

  if (id && journey.loading && !journey.data) return <Loading what="the journey" />;
  if (id && journey.error && !journey.data)
    return (
      <section>
        <PageHeader title="Journey" />
        <ProblemBox error={journey.error} />
      </section>
    );

  const selectedNode = nodes.find((n) => n.id === selected);
  const status = journey.data?.status ?? "draft";
  const general = problem instanceof ApiError ? problem : problem ? problem : null;
  const pastVersion = shownVersion === null ? undefined : versions.data?.data.find((v) => v.version === shownVersion);
  const editing = shownVersion === null;

  return (
    <EventCatalogProvider extra={catalog?.events ?? NO_NAMES}>
    <section className="journey-builder">
      <PageHeader
        title={
          <>
            {isNew ? "New journey" : "Journey"} <StatusBadge status={isNew ? "new" : status} />
            {journey.data && journey.data.version > 0 && <span className="muted small"> version {journey.data.version}</span>}
          </>
        }
      >
        <Link to="/journeys">All journeys</Link>
      </PageHeader>
      {!isNew && (
        <TabList
          label="Journey views"
          idPrefix="journey-view"
          className="tabs journey-tabs"
          tabs={[
            { key: "canvas", label: "Canvas" },
            { key: "report", label: "Report" },
          ]}
          selected={view}
          onSelect={showView}
        />
      )}
      {view === "report" && journey.data ? (
        <div role="tabpanel" id="journey-view-panel" aria-labelledby="journey-view-report">
          {dirty && <p className="muted small">The canvas has unsaved changes; the report is of the saved journey.</p>}
          <Suspense fallback={<Loading what="the report" />}>
            <JourneyReport journey={journey.data} />
          </Suspense>
        </div>
      ) : (
      <div role={isNew ? undefined : "tabpanel"} id={isNew ? undefined : "journey-view-panel"} aria-labelledby={isNew ? undefined : "journey-view-canvas"}>
      <div className="journey-toolbar">
        <div className="field grow">
          <label htmlFor="journey-name">Name</label>
          <input id="journey-name" value={name} onChange={(e) => (setName(e.target.value), setDirty(true))} readOnly={!canEdit || !editing} placeholder="e.g. Welcome series" />
        </div>
        {versions.data && versions.data.data.length > 0 && (
          <div className="field">
            <label htmlFor="journey-version">Showing</label>
            <select id="journey-version" value={shownVersion ?? ""} onChange={(e) => openVersion(e.target.value ? Number(e.target.value) : null)}>
              <option value="">{canEdit ? "The draft (editable)" : "The draft"}</option>
              {[...versions.data.data].reverse().map((v) => (
                <option key={v.version} value={v.version}>
                  Version {v.version}
                  {v.version === currentVersion ? " (current)" : ""}, published {formatWhen(v.published_at)}
                </option>
              ))}
            </select>
          </div>
        )}
        <div className="toolbar-actions">
          {canEdit && editing && (
            <button type="button" className="primary" onClick={saveDraft} disabled={busy !== null}>
              {busy === "save" ? "Saving…" : "Save draft"}
            </button>
          )}
          {!isNew && canEdit && editing && (
            <button type="button" onClick={publish} disabled={busy !== null}>
              {busy === "publish" ? "Publishing…" : "Publish"}
            </button>
          )}
          {canEdit && editing && (
            <button type="button" onClick={tidy} title="Arrange the steps top-down by where they lead">
              Tidy up
            </button>
          )}
          {status === "active" && canEdit && (
            <button type="button" onClick={() => setStatus("pause")} disabled={busy !== null}>
              Pause
            </button>
          )}
          {status === "paused" && canEdit && (
            <button type="button" onClick={() => setStatus("resume")} disabled={busy !== null}>
              Resume
            </button>
          )}
        </div>
      </div>
      <div className="journey-messages" aria-live="polite">
        {dirty && !busy && <span className="muted small">{editing ? "Unsaved changes." : "The draft has unsaved changes; they are kept while you look at this version."}</span>}
        {editing && problemTotal > 0 && (
          <span className="small warn" data-testid="problem-count">
            {" "}
            {countOf(problemTotal, "problem")} to fix before publishing: see the steps marked on the canvas.
          </span>
        )}
        {note && <p className="ok" role="status">{note}</p>}
        {general !== null && <ProblemBox error={general} context={isNew || busy === "save" ? "Not saved" : "Refused"} />}
        <ProblemBox error={catalogError} context="Loading fields, segments and lists" />
        <EventCatalogStatus />
        {stats.error && <ProblemBox error={stats.error} context="Live counts" />}
        {versions.error && <ProblemBox error={versions.error} context="Versions" />}
      </div>
      {!editing && id && (pastVersion ? (
        <VersionView journeyId={id} version={pastVersion} current={currentVersion} catalog={catalog} stats={stats.data} onBack={() => openVersion(null)} />
      ) : versions.loading || !versions.data ? (
        versions.error ? null : <Loading what={`version ${shownVersion}`} />
      ) : (
        <div className="problem" role="alert">
          This journey has no version {shownVersion}.{" "}
          <button type="button" className="link" onClick={() => openVersion(null)}>
            Back to the draft
          </button>
        </div>
      ))}
      {/* Roles that may only look (analysts) get no palette, a canvas whose steps
          cannot be moved, joined or deleted, and settings they cannot change. */}
      {editing && (
      <div className={canEdit ? "journey-layout" : "journey-layout read-only"}>
        {canEdit && <aside className="palette" aria-label="Steps you can add">
          <h2>Steps</h2>
          <p className="muted small">Drag onto the canvas, or press Enter to add below.</p>
          <ul>
            {STEP_TYPES.map((t) => (
              <li key={t.type}>
                <button
                  type="button"
                  className={`palette-item step-${t.type}`}
                  draggable
                  title={t.hint}
                  data-step-type={t.type}
                  onDragStart={(e) => {
                    e.dataTransfer.setData("application/x-kairos-step", t.type);
                    e.dataTransfer.effectAllowed = "move";
                  }}
                  onClick={() => addStep(t.type)}
                >
                  {t.label}
                </button>
              </li>
            ))}
          </ul>
        </aside>}
        <div
          className="canvas"
          onDrop={onDrop}
          onDragOver={(e) => (e.preventDefault(), (e.dataTransfer.dropEffect = "move"))}
          data-testid="journey-canvas"
          aria-busy={draftJson !== null && checkedFor !== draftJson}
        >
          <CanvasInfo.Provider value={{ errors, problems, stats: statsByStep }}>
            <ReactFlow
              nodes={nodes}
              edges={labelledEdges}
              nodeTypes={nodeTypes}
              edgeTypes={edgeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              onPaneClick={() => setSelected(null)}
              onInit={(instance) => {
                if (!refit.current) return;
                refit.current = false;
                void instance.fitView({ padding: 0.2, maxZoom: 1 });
              }}
              nodesDraggable={canEdit}
              nodesConnectable={canEdit}
              edgesReconnectable={false}
              deleteKeyCode={canEdit ? ["Delete", "Backspace"] : null}
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={20} />
              <Controls showInteractive={false} />
            </ReactFlow>
          </CanvasInfo.Provider>
        </div>
        <aside className="side-panel" aria-label="Selected step">
          <fieldset disabled={!canEdit} className="plain">
          {!catalog && !catalogError && <Loading what="pickers" />}
          {catalog && !selectedNode && (
            <div className="muted">
              <h2>Settings</h2>
              <p>Select the trigger or a step on the canvas to configure it.</p>
              {journey.data && running && stats.data && (
                <p>
                  In the journey now: <strong>{formatNumber(["delayed", "waiting", "acting"].reduce((n, s) => n + (stats.data!.runs[s] ?? 0), 0))}</strong>
                </p>
              )}
              {versions.data && <Versions versions={versions.data.data} current={currentVersion} />}
            </div>
          )}
          {catalog && selectedNode?.type === "trigger" && (
            <TriggerPanel
              settings={(selectedNode.data as TriggerNodeData).settings}
              onChange={updateSettings}
              catalog={catalog}
              errors={errors.get(TRIGGER_ID)}
              problems={problems.get(TRIGGER_ID)}
              steps={stepIds}
              start={edges.find((e) => e.source === TRIGGER_ID)?.target ?? ""}
              onStart={(target) => connect(TRIGGER_ID, "start", target)}
              readOnly={!canEdit || !editing}
            />
          )}
          {catalog && selectedNode?.type === "step" && (
            <StepPanel
              key={selectedNode.id}
              step={(selectedNode.data as StepNodeData).step}
              steps={stepIds}
              edges={edges}
              onChange={(config) => updateStep(selectedNode.id, config)}
              onConnect={(handle, target) => connect(selectedNode.id, handle, target)}
              onExitRemoved={(prefix, index) => exitRemoved(selectedNode.id, prefix, index)}
              onRemove={() => removeStep(selectedNode.id)}
              catalog={catalog}
              errors={errors.get(selectedNode.id)}
              problems={problems.get(selectedNode.id)}
              readOnly={!canEdit || !editing}
            />
          )}
          </fieldset>
        </aside>
      </div>
      )}
      </div>
      )}
    </section>
    </EventCatalogProvider>
  );
}

/** The journey's published versions, newest first, each opening read-only on the canvas. */
function Versions({ versions, current }: { versions: JourneyVersion[]; current: number }) {
  if (versions.length === 0) return null;
  return (
    <>
      <h3>Published versions</h3>
      <ul className="plain small" aria-label="Published versions">
        {[...versions].reverse().map((v) => (
          <li key={v.version}>
            <Link to={{ search: `?version=${v.version}` }}>Version {v.version}</Link>, {formatWhen(v.published_at)}
            {v.version === current ? " (current)" : ""}
          </li>
        ))}
      </ul>
    </>
  );
}
