// Who is signed in and what they may do: the session the server describes
// (from sign-in, or asked for on page load, since the HttpOnly cookie
// survives reloads), or an API key kept in sessionStorage as the fallback
// way in; the sign-in page for both; signing out and switching workspace.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type FormEvent, type ReactNode } from "react";
import { api, ApiError, forgetKey, setCsrfToken, storedKey, storeKey, UNAUTHORIZED_EVENT } from "./api";
import { can as allowed, roleRefusal, signInRefusal, type Permission, type SessionView } from "./access";
import { Loading, ProblemBox, RoleRefusal } from "./components";
import { forgetCatalog } from "./segments/catalog";

interface Session {
  session: SessionView;
  can: (p: Permission) => boolean;
  signOut: () => void;
  switchWorkspace: (workspace: string) => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("useSession outside a signed-in session");
  return s;
}

/** The session's permission check, for components deep in a page. */
export function useCan(): (p: Permission) => boolean {
  return useSession().can;
}

/** A page only roles with `need` may see; others (who typed its address)
 * are told their role cannot `what` instead of meeting the API's 403s. */
export function Allowed({ need, what, userOnly, children }: { need: Permission; what: string; userOnly?: boolean; children: ReactNode }) {
  const { session, can } = useSession();
  if (userOnly && session.principal !== "user") return <RoleRefusal message={`You signed in with an API key, which cannot ${what}; sign in with your email and password.`} />;
  if (!can(need)) return <RoleRefusal message={roleRefusal(session.role, what)} />;
  return <>{children}</>;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionView | null>(null);
  const [checking, setChecking] = useState(true);
  const [ended, setEnded] = useState(false);
  // The sign-in page offers again the way last used in this tab.
  const [way, setWay] = useState<"password" | "key">("password");

  // The session as the event handler below sees it, without waiting for a render.
  const current = useRef<SessionView | null>(null);
  const adopt = useCallback((v: SessionView | null) => {
    setCsrfToken(v?.csrf_token ?? null);
    current.current = v;
    setSession(v);
  }, []);

  // A session cookie or a key kept from earlier in this tab: ask who it is.
  useEffect(() => {
    const key = storedKey() ?? undefined;
    api<SessionView>("GET", "/api/v1/auth/session", undefined, { key, quiet: true })
      .then(adopt)
      .catch(() => forgetKey())
      .finally(() => setChecking(false));
  }, [adopt]);

  useEffect(() => {
    const onUnauthorized = () => {
      // Several requests of a page may be refused at once: the first signs
      // out; the later ones, answered after, must not change the message.
      if (!current.current) return;
      setWay(current.current.principal === "key" ? "key" : "password");
      setEnded(true);
      forgetKey();
      forgetCatalog();
      adopt(null);
    };
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, [adopt]);

  const signOut = useCallback(() => {
    // Ends the session on the server and clears the cookie; sent before the
    // CSRF token is dropped below, and the UI lets go whatever the answer.
    if (session?.principal === "user") api("POST", "/api/v1/auth/logout", undefined, { quiet: true }).catch(() => {});
    setWay(session?.principal === "key" ? "key" : "password");
    forgetKey();
    forgetCatalog();
    adopt(null);
    setEnded(false);
  }, [session, adopt]);

  const switchWorkspace = useCallback(
    async (workspace: string) => {
      const v = await api<SessionView>("POST", "/api/v1/auth/switch", { workspace });
      forgetCatalog();
      adopt(v);
    },
    [adopt],
  );

  if (checking) return <Loading what="your session" />;
  if (!session)
    return (
      <SignIn
        ended={ended}
        way={way}
        onSignedIn={(v) => {
          setEnded(false);
          adopt(v);
        }}
      />
    );
  const value: Session = { session, can: (p) => allowed(session, p), signOut, switchWorkspace };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

function SignIn({ onSignedIn, ended, way }: { onSignedIn: (v: SessionView) => void; ended: boolean; way: "password" | "key" }) {
  const [mode, setMode] = useState(way);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [key, setKey] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function attempt(call: () => Promise<SessionView>) {
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await call());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (mode === "key") {
      const k = key.trim();
      if (!k) return setError(new ApiError({ title: "Enter an admin API key", status: 0, detail: "" }));
      void attempt(async () => {
        const v = await api<SessionView>("GET", "/api/v1/auth/session", undefined, { key: k });
        storeKey(k);
        return v;
      });
    } else {
      if (!email.trim() || !password) return setError(new ApiError({ title: "Enter your email and password", status: 0, detail: "" }));
      void attempt(() => api<SessionView>("POST", "/api/v1/auth/login", { email: email.trim(), password }, { quiet: true }));
    }
  }

  const switchMode = (m: "password" | "key") => {
    setMode(m);
    setError(null);
  };

  // Password refusals are worded for people; key refusals keep the server's explanation.
  const shown =
    mode === "password" && error instanceof ApiError && error.status !== 0
      ? new ApiError({ ...error.problem, ...signInRefusal(error.status, error.problem.detail) })
      : error;

  return (
    <main className="signin">
      <form onSubmit={submit} className="card signin-card" aria-labelledby="signin-title" noValidate>
        <h1 id="signin-title">Sign in to Kairos</h1>
        {ended && (
          <p className="notice" role="status">
            {way === "key" ? "Your key is no longer accepted; sign in again." : "Your session has ended; sign in again."}
          </p>
        )}
        {mode === "password" ? (
          <>
            <label htmlFor="signin-email">Email</label>
            <input id="signin-email" name="email" type="email" autoComplete="username" autoFocus value={email} onChange={(e) => setEmail(e.target.value)} />
            <label htmlFor="signin-password">Password</label>
            <input
              id="signin-password"
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </>
        ) : (
          <>
            <p className="muted">
              Use an admin API key of your workspace. <code>kairos demo</code> prints one; <code>kairos key create --scope admin</code> makes
              another.
            </p>
            <label htmlFor="admin-key">Admin API key</label>
            <input id="admin-key" name="admin-key" type="password" autoComplete="off" autoFocus value={key} onChange={(e) => setKey(e.target.value)} />
          </>
        )}
        <ProblemBox error={shown} context={mode === "key" ? "Sign-in failed" : undefined} />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <button type="button" className="link" onClick={() => switchMode(mode === "key" ? "password" : "key")}>
          {mode === "key" ? "Use email and password instead" : "Use an API key instead"}
        </button>
      </form>
    </main>
  );
}
