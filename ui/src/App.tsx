// The app shell: sign-in gate, navigation and the routes of every page.
import { BrowserRouter, NavLink, Route, Routes, useParams } from "react-router";
import { SessionProvider, useSession } from "./session";
import { Dashboard } from "./pages/Dashboard";
import { Contacts } from "./pages/Contacts";
import { ContactPage } from "./pages/ContactPage";
import { Segments } from "./pages/Segments";
import { SegmentBuilder } from "./segments/SegmentBuilder";
import { Journeys } from "./pages/Journeys";
import { JourneyBuilder } from "./journeys/JourneyBuilder";
import { Templates } from "./email/Templates";
import { TemplateEditor } from "./email/TemplateEditor";
import { Outbox } from "./email/Outbox";
import { MessagePage } from "./email/MessagePage";
import { Settings } from "./settings/Settings";

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
  const { workspace, signOut } = useSession();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="nav" aria-label="Main">
        <div className="brand">
          Kairos <span className="workspace" title="Workspace">{workspace.name}</span>
        </div>
        <ul>
          <li><NavLink to="/" end>Dashboard</NavLink></li>
          <li><NavLink to="/contacts">Contacts</NavLink></li>
          <li><NavLink to="/segments">Segments</NavLink></li>
          <li><NavLink to="/journeys">Journeys</NavLink></li>
          <li><NavLink to="/email/templates">Email templates</NavLink></li>
          <li><NavLink to="/email/outbox">Outbox</NavLink></li>
          <li><NavLink to="/settings">Settings</NavLink></li>
        </ul>
        <button type="button" className="link signout" onClick={signOut}>
          Sign out
        </button>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<Dashboard />} />
          <Route path="/contacts" element={<Contacts />} />
          <Route path="/contacts/:id" element={<ContactPage />} />
          <Route path="/segments" element={<Segments />} />
          <Route path="/segments/new" element={<SegmentBuilder key="new" />} />
          <Route path="/segments/:id" element={<KeyedSegmentBuilder />} />
          <Route path="/journeys" element={<Journeys />} />
          <Route path="/journeys/new" element={<JourneyBuilder />} />
          <Route path="/journeys/:id" element={<JourneyBuilder />} />
          <Route path="/email/templates" element={<Templates />} />
          <Route path="/email/templates/new" element={<TemplateEditor key="new" />} />
          <Route path="/email/templates/:id" element={<KeyedTemplateEditor />} />
          <Route path="/email/outbox" element={<Outbox />} />
          <Route path="/email/outbox/:id" element={<MessagePage />} />
          <Route path="/settings" element={<Settings />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </div>
  );
}

/** A fresh builder per segment, so moving between segments never carries an edit over. */
function KeyedSegmentBuilder() {
  const { id } = useParams();
  return <SegmentBuilder key={id} />;
}

/** A fresh editor per template, except when a new template is saved and gets its id. */
function KeyedTemplateEditor() {
  const { id } = useParams();
  return <TemplateEditor key={id} />;
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
