/** The shell: sign-in state, landmarks, navigation, focus on route change and the live region. */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api } from './api.ts';
import type { Auth, Session } from './auth.ts';
import { errorText } from './components.tsx';
import { App, type AppContext } from './context.ts';
import { Link, navigate, useLocation, type Location } from './router.tsx';
import { AdminScreen } from './screens/admin.tsx';
import { ApprovalsScreen } from './screens/approvals.tsx';
import { GrantScreen } from './screens/grant.tsx';
import { MineScreen } from './screens/mine.tsx';
import { RequestScreen } from './screens/request.tsx';
import { Screen } from './screen.tsx';
import type { PortalConfig } from './types.ts';

const NAV = [
  { href: '/', label: 'Request' },
  { href: '/mine', label: 'My access' },
  { href: '/approvals', label: 'Approvals' },
  { href: '/admin', label: 'Admin' },
] as const;

const GRANT_PATH = /^\/grants\/([0-9A-Za-z]{26})$/;

function route(loc: Location) {
  const grant = GRANT_PATH.exec(loc.path);
  if (grant) return <GrantScreen id={grant[1] as string} />;
  switch (loc.path) {
    case '/':
    case '/request':
      return <RequestScreen />;
    case '/mine':
      return <MineScreen />;
    case '/approvals':
      return <ApprovalsScreen />;
    case '/admin':
      return <AdminScreen />;
    default:
      return (
        <Screen title="Page not found">
          <p>
            Nothing lives at <code>{loc.path}</code>. <Link href="/">Request access</Link> or see <Link href="/mine">your access</Link>.
          </p>
        </Screen>
      );
  }
}

function SignInPage(props: { auth: Auth; reason?: string | undefined }) {
  const [error, setError] = useState<unknown>(undefined);
  const signIn = () => props.auth.signIn(location.pathname + location.search).catch(setError);
  useEffect(() => {
    document.title = 'Sign in · Identity Center JIT';
  }, []);
  return (
    <main id="main" class="signin">
      <h1>Identity Center JIT</h1>
      <p>Request, approve and watch just-in-time access to AWS.</p>
      {props.reason ? <p class="notice">{props.reason}</p> : null}
      {error ? (
        <p class="error-summary" role="alert">
          {errorText(error)}
        </p>
      ) : null}
      <button type="button" class="primary" onClick={() => void signIn()}>
        Sign in
      </button>
    </main>
  );
}

function Callback(props: { auth: Auth; query: URLSearchParams }) {
  const [error, setError] = useState<unknown>(undefined);
  const started = useRef(false);
  useEffect(() => {
    // Codes are single use: a second render must not spend it again.
    if (started.current) return;
    started.current = true;
    props.auth.completeSignIn(props.query).then((to) => navigate(to, { replace: true }), setError);
  }, []);
  if (!error) {
    return (
      <main id="main" class="signin">
        <h1>Signing you in…</h1>
      </main>
    );
  }
  return <SignInPage auth={props.auth} reason={errorText(error)} />;
}

export function Root(props: { config: PortalConfig; auth: Auth }) {
  const { auth, config } = props;
  const loc = useLocation();
  const [session, setSession] = useState<Session | undefined>(auth.current);
  /** Set when the session lapsed under an open screen: the screen stays, with what was typed, behind a banner. */
  const [lapsed, setLapsed] = useState<string | undefined>(undefined);
  const [message, setMessage] = useState('');
  const api = useMemo(() => new Api(config.apiUrl, auth), [config, auth]);
  const firstRoute = useRef(true);

  useEffect(() => {
    const unsubscribe = auth.onChange((next, reason) => {
      if (next) {
        setSession(next);
        setLapsed(undefined);
      } else if (reason) {
        setLapsed(reason);
      } else {
        setSession(undefined);
      }
    });
    // A renewal refused before this subscription (a tab reopened after its tokens lapsed).
    if (!auth.current && auth.lapsedReason) setLapsed(auth.lapsedReason);
    return unsubscribe;
  }, [auth]);

  useEffect(() => {
    if (firstRoute.current) {
      firstRoute.current = false;
      return;
    }
    // After a route change, start reading at the new screen's heading.
    document.querySelector<HTMLElement>('main h1')?.focus();
  }, [loc.path]);

  if (loc.path === '/callback') return <Callback auth={auth} query={loc.query} />;
  if (!session) return <SignInPage auth={auth} />;

  const ctx: AppContext = {
    config,
    auth,
    api,
    session,
    announce: (text: string) => {
      // Emptied first so the same sentence twice is still spoken twice.
      setMessage('');
      requestAnimationFrame(() => setMessage(text));
    },
  };
  const section = NAV.find((n) => n.href === loc.path);
  return (
    <App.Provider value={ctx}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <p class="brand">
          <Link href="/">Identity Center JIT</Link>
        </p>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li>
                <Link href={n.href} aria-current={section?.href === n.href ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>{session.name !== session.email ? `${session.name} (${session.email})` : session.email}</span>
          <button
            type="button"
            class="link"
            onClick={() => {
              auth.signOut();
              setSession(undefined);
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      {lapsed ? (
        <div class="lapsed" role="alert">
          <p>
            <strong>Signed out — sign in again.</strong> {lapsed[0]?.toUpperCase()}
            {lapsed.slice(1)}. What you typed here is kept.
          </p>
          <button type="button" class="primary" onClick={() => void auth.signIn(location.pathname + location.search)}>
            Sign in again
          </button>
        </div>
      ) : null}
      <main id="main" tabIndex={-1}>
        {route(loc)}
      </main>
      <div class="visually-hidden" role="status" aria-live="polite">
        {message}
      </div>
    </App.Provider>
  );
}
