// The app shell: sign-in gate, the header with who is signed in (and the
// workspace switcher), navigation showing what the role may use, and the
// routes of every page, each behind the permission it needs.
import { Component, lazy, Suspense, useState, type ComponentType, type ReactNode } from "react";
import { BrowserRouter, NavLink, Route, Routes, useLocation, useNavigate, useParams } from "react-router";
import { allowedItems, NAV } from "./access";
import { Allowed, SessionProvider, useSession } from "./session";
import { ApiError } from "./api";
import { Loading, ProblemBox } from "./components";

// Every page is its own chunk, fetched the first time it is opened, so the
// sign-in page and the shell load without the journey canvas (@xyflow),
// the charts (uPlot), the email editors, models, reports and settings; what pages
// share (the charts, the rule editor) becomes a chunk of its own.
const Dashboard = page(() => import("./pages/Dashboard"), "Dashboard");
const Contacts = page(() => import("./pages/Contacts"), "Contacts");
const ContactPage = page(() => import("./pages/ContactPage"), "ContactPage");
const Segments = page(() => import("./pages/Segments"), "Segments");
const SegmentBuilder = page(() => import("./segments/SegmentBuilder"), "SegmentBuilder");
const Scores = page(() => import("./scores/Scores"), "Scores");
const ScoreEditor = page(() => import("./scores/ScoreEditor"), "ScoreEditor");
const Models = page(() => import("./models/Models"), "Models");
const ModelVersionPage = page(() => import("./models/ModelVersionPage"), "ModelVersionPage");
const Journeys = page(() => import("./pages/Journeys"), "Journeys");
const JourneyBuilder = page(() => import("./journeys/JourneyBuilder"), "JourneyBuilder");
const Templates = page(() => import("./email/Templates"), "Templates");
const TemplateEditor = page(() => import("./email/TemplateEditor"), "TemplateEditor");
const Snippets = page(() => import("./email/Snippets"), "Snippets");
const SnippetEditor = page(() => import("./email/Snippets"), "SnippetEditor");
const Outbox = page(() => import("./email/Outbox"), "Outbox");
const Campaigns = page(() => import("./email/Campaigns"), "Campaigns");
const CampaignEditor = page(() => import("./email/CampaignEditor"), "CampaignEditor");
const MessagePage = page(() => import("./email/MessagePage"), "MessagePage");
const Settings = page(() => import("./settings/Settings"), "Settings");
const EmailSettings = page(() => import("./settings/Settings"), "EmailSettings");
const Members = page(() => import("./settings/Members"), "Members");
const Keys = page(() => import("./settings/Keys"), "Keys");
const Audit = page(() => import("./settings/Audit"), "Audit");
const Password = page(() => import("./settings/Password"), "Password");
const Forms = page(() => import("./settings/Forms"), "Forms");
const Retention = page(() => import("./settings/Retention"), "Retention");
const ConsentTexts = page(() => import("./settings/ConsentTexts"), "ConsentTexts");
const EmailDelivery = page(() => import("./settings/EmailDelivery"), "EmailDelivery");
const SendingPolicy = page(() => import("./settings/SendingPolicy"), "SendingPolicy");
const Reports = page(() => import("./reports/Reports"), "Reports");
const EmailReports = page(() => import("./reports/Reports"), "EmailReports");
const Attribution = page(() => import("./reports/Attribution"), "Attribution");
const Costs = page(() => import("./reports/Costs"), "Costs");

/** A page exported by name from a module loaded on first use. */
function page<K extends string>(load: () => Promise<Record<K, ComponentType>>, name: K) {
  return lazy(() => load().then((m) => ({ default: m[name] })));
}

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Shell />
      </SessionProvider>
    </BrowserRouter>
  );
}

function Shell() {
  const { session } = useSession();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="nav" aria-label="Main">
        <div className="brand">
          Kairos <span className="workspace" title="Workspace">{session.workspace.name}</span>
        </div>
        <ul>
          {allowedItems(session, NAV).map((i) => (
            <li key={i.to}>
              <NavLink to={i.to} end={i.to === "/"}>
                {i.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="content">
        <Header />
        {/* Keyed by workspace, so every page loads afresh after a switch. */}
        <main id="main" className="main" tabIndex={-1} key={session.workspace.id}>
          <PageLoad>
            <Routes>
              <Route path="/" element={<Allowed need="reports:read" what="view the dashboard"><Dashboard /></Allowed>} />
              <Route path="/contacts" element={<Allowed need="people:read" what="view contacts"><Contacts /></Allowed>} />
              <Route path="/contacts/:id" element={<Allowed need="people:read" what="view contacts"><ContactPage /></Allowed>} />
              <Route path="/segments" element={<Allowed need="marketing:read" what="view segments"><Segments /></Allowed>} />
              <Route path="/segments/new" element={<Allowed need="marketing:write" what="create segments"><SegmentBuilder key="new" /></Allowed>} />
              <Route path="/segments/:id" element={<Allowed need="marketing:read" what="view segments"><KeyedSegmentBuilder /></Allowed>} />
              <Route path="/scores" element={<Allowed need="marketing:read" what="view scores"><Scores /></Allowed>} />
              <Route path="/scores/new" element={<Allowed need="marketing:write" what="create scores"><ScoreEditor key="new" /></Allowed>} />
              <Route path="/scores/:name" element={<Allowed need="marketing:read" what="view scores"><KeyedScoreEditor /></Allowed>} />
              <Route path="/models" element={<Allowed need="reports:read" what="view models"><Models /></Allowed>} />
              <Route path="/models/:id" element={<Allowed need="reports:read" what="view models"><KeyedModelVersion /></Allowed>} />
              <Route path="/journeys" element={<Allowed need="marketing:read" what="view journeys"><Journeys /></Allowed>} />
              <Route path="/journeys/new" element={<Allowed need="marketing:write" what="create journeys"><JourneyBuilder /></Allowed>} />
              <Route path="/journeys/:id" element={<Allowed need="marketing:read" what="view journeys"><JourneyBuilder /></Allowed>} />
              <Route path="/email/templates" element={<Allowed need="marketing:read" what="view email templates"><Templates /></Allowed>} />
              <Route path="/email/templates/new" element={<Allowed need="marketing:write" what="create email templates"><TemplateEditor key="new" /></Allowed>} />
              <Route path="/email/templates/snippets" element={<Allowed need="marketing:read" what="view email snippets"><Snippets /></Allowed>} />
              <Route path="/email/templates/snippets/new" element={<Allowed need="marketing:write" what="create email snippets"><SnippetEditor key="new" /></Allowed>} />
              <Route path="/email/templates/snippets/:name" element={<Allowed need="marketing:read" what="view email snippets"><KeyedSnippetEditor /></Allowed>} />
              <Route path="/email/templates/:id" element={<Allowed need="marketing:read" what="view email templates"><KeyedTemplateEditor /></Allowed>} />
              <Route path="/email/campaigns" element={<Allowed need="marketing:read" what="view campaigns"><Campaigns /></Allowed>} />
              <Route path="/email/campaigns/new" element={<Allowed need="marketing:write" what="create campaigns"><CampaignEditor key="new" /></Allowed>} />
              <Route path="/email/campaigns/:id" element={<Allowed need="marketing:read" what="view campaigns"><KeyedCampaignEditor /></Allowed>} />
              <Route path="/reports" element={<Allowed need="reports:read" what="view reports"><Reports /></Allowed>}>
                <Route index element={<Attribution />} />
                <Route path="costs" element={<Costs />} />
                <Route path="email" element={<Allowed need="marketing:read" what="view campaign and journey reports"><EmailReports /></Allowed>} />
              </Route>
              <Route path="/email/outbox" element={<Allowed need="people:read" what="view the outbox"><Outbox /></Allowed>} />
              <Route path="/email/outbox/:id" element={<Allowed need="people:read" what="view sent email"><MessagePage /></Allowed>} />
              <Route path="/settings" element={<Settings />}>
                <Route index element={<Allowed need="settings:read" what="view settings"><EmailSettings /></Allowed>} />
                <Route path="email-delivery" element={<Allowed need="settings:read" what="view email delivery"><EmailDelivery /></Allowed>} />
                <Route path="sending" element={<Allowed need="settings:read" what="view the sending policy"><SendingPolicy /></Allowed>} />
                <Route path="members" element={<Allowed need="members" what="manage members"><Members /></Allowed>} />
                <Route path="keys" element={<Allowed need="members" what="manage API keys"><Keys /></Allowed>} />
                <Route path="forms" element={<Allowed need="consent:read" what="view subscription forms"><Forms /></Allowed>} />
                <Route path="consent-texts" element={<Allowed need="marketing:read" what="view consent texts"><ConsentTexts /></Allowed>} />
                <Route path="retention" element={<Allowed need="privacy:rights" what="manage retention"><Retention /></Allowed>} />
                <Route path="audit" element={<Allowed need="audit:read" what="view the audit log"><Audit /></Allowed>} />
                <Route path="password" element={<Allowed need="session" what="change a password" userOnly><Password /></Allowed>} />
              </Route>
              <Route path="*" element={<NotFound />} />
            </Routes>
          </PageLoad>
        </main>
      </div>
    </div>
  );
}

/** Who is signed in, in which workspace with which role; switching workspace; signing out. */
function Header() {
  const { session, signOut, switchWorkspace } = useSession();
  const navigate = useNavigate();
  const [problem, setProblem] = useState<unknown>(null);
  const who = session.user ? session.user.name || session.user.email : `API key ${session.key ?? ""}`;
  return (
    <header className="topbar" aria-label="Signed in">
      <div className="topbar-who">
        <span className="topbar-name" data-testid="signed-in-as" title={session.user?.email}>
          {who}
        </span>
        <span className={`badge role-badge role-${session.role}`} data-testid="role">
          {session.role}
        </span>
        {session.workspaces.length > 1 ? (
          <label className="inline workspace-switch">
            <span className="muted small">Workspace</span>
            <select
              value={session.workspace.id}
              onChange={(e) => {
                setProblem(null);
                switchWorkspace(e.target.value).then(() => navigate("/"), setProblem);
              }}
            >
              {session.workspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name} ({w.role})
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span className="muted small">in {session.workspace.name}</span>
        )}
      </div>
      <div className="topbar-actions">
        {session.principal === "user" && <NavLink to="/settings/password">Change password</NavLink>}
        <button type="button" className="link" onClick={signOut}>
          Sign out
        </button>
      </div>
      <ProblemBox error={problem} context="Workspace not switched" />
    </header>
  );
}

/** A fresh builder per segment, so moving between segments never carries an edit over. */
function KeyedSegmentBuilder() {
  const { id } = useParams();
  return <SegmentBuilder key={id} />;
}

/** A fresh editor per score, so moving between scores never carries an edit over. */
function KeyedScoreEditor() {
  const { name } = useParams();
  return <ScoreEditor key={name} />;
}

/** A fresh page per model version. */
function KeyedModelVersion() {
  const { id } = useParams();
  return <ModelVersionPage key={id} />;
}

/** A fresh editor per template, except when a new template is saved and gets its id. */
function KeyedTemplateEditor() {
  const { id } = useParams();
  return <TemplateEditor key={id} />;
}

/** A fresh editor per snippet. */
function KeyedSnippetEditor() {
  const { name } = useParams();
  return <SnippetEditor key={name} />;
}

/** A fresh editor per campaign, so moving between campaigns never carries an edit over. */
function KeyedCampaignEditor() {
  const { id } = useParams();
  return <CampaignEditor key={id} />;
}

/** Where pages load: the loading line while a page's code arrives, in the
 * spot the page will fill, and a way out when it cannot arrive (the server
 * was updated and the old chunk is gone, or the network dropped). */
function PageLoad({ children }: { children: ReactNode }) {
  return (
    <PageLoadFailure at={useLocation().pathname}>
      <Suspense fallback={<Loading what="the page" />}>{children}</Suspense>
    </PageLoadFailure>
  );
}

/** The failure of a page to load, kept until another address is opened (which tries again). */
class PageLoadFailure extends Component<{ at: string; children: ReactNode }, { error: unknown; at: string }> {
  state = { error: null as unknown, at: this.props.at };
  static getDerivedStateFromProps(props: { at: string }, state: { at: string }) {
    return props.at === state.at ? null : { error: null, at: props.at };
  }
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  render() {
    if (!this.state.error) return this.props.children;
    return (
      <section>
        <ProblemBox
          error={
            new ApiError({
              title: "This page could not be loaded",
              status: 0,
              detail: `The server may have been updated since this tab opened, or the network dropped: reload to fetch the current version. (${String((this.state.error as Error)?.message ?? this.state.error)})`,
            })
          }
        />
        <button type="button" onClick={() => window.location.reload()}>
          Reload
        </button>
      </section>
    );
  }
}

function NotFound() {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <NavLink to="/">Back to the dashboard</NavLink>.
      </p>
    </section>
  );
}
