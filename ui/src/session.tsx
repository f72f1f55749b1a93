// Who is signed in: the admin API key (kept in sessionStorage, so it dies
// with the tab) and the workspace it belongs to; the sign-in page that
// checks a key against the API before keeping it.
import { createContext, useContext, useEffect, useState, type FormEvent, type ReactNode } from "react";
import { api, ApiError, forgetKey, storedKey, storeKey, UNAUTHORIZED_EVENT, type Workspace } from "./api";
import { Loading, ProblemBox } from "./components";
import { forgetCatalog } from "./segments/catalog";

interface Session {
  workspace: Workspace;
  signOut: () => void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in session");
  return s;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [workspace, setWorkspace] = useState<Workspace | null>(null);
  const [checking, setChecking] = useState<boolean>(storedKey() !== null);
  const [expired, setExpired] = useState(false);

  // A key kept from earlier in this tab: check it is still good.
  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    api<Workspace>("GET", "/api/v1/workspace", undefined, { key })
      .then(setWorkspace)
      .catch(() => forgetKey())
      .finally(() => setChecking(false));
  }, []);

  useEffect(() => {
    const onUnauthorized = () => {
      forgetKey();
      forgetCatalog();
      setWorkspace(null);
      setExpired(true);
    };
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, []);

  if (checking) return <Loading what="your session" />;
  if (!workspace)
    return (
      <SignIn
        expired={expired}
        onSignedIn={(ws) => {
          setExpired(false);
          setWorkspace(ws);
        }}
      />
    );
  const signOut = () => {
    forgetKey();
    forgetCatalog();
    setWorkspace(null);
  };
  return <SessionContext.Provider value={{ workspace, signOut }}>{children}</SessionContext.Provider>;
}

function SignIn({ onSignedIn, expired }: { onSignedIn: (ws: Workspace) => void; expired: boolean }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError(new ApiError({ title: "Enter an admin API key", status: 0, detail: "" }));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const ws = await api<Workspace>("GET", "/api/v1/workspace", undefined, { key: k });
      storeKey(k);
      onSignedIn(ws);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form onSubmit={submit} className="card signin-card" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Kairos</h1>
        <p className="muted">
          Use an admin API key of your workspace. <code>kairos demo</code> prints one; <code>kairos key create --scope admin</code> makes
          another.
        </p>
        {expired && <p className="notice" role="status">Your key is no longer accepted; sign in again.</p>}
        <label htmlFor="admin-key">Admin API key</label>
        <input
          id="admin-key"
          name="admin-key"
          type="password"
          autoComplete="off"
          autoFocus
          value={key}
          onChange={(e) => setKey(e.target.value)}
        />
        <ProblemBox error={error} context="Sign-in failed" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
