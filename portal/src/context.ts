import { createContext } from 'preact';
import { useContext, useEffect, useRef } from 'preact/hooks';
import type { Api } from './api.ts';
import type { Auth, Session } from './auth.ts';
import type { PortalConfig } from './types.ts';

export interface AppContext {
  config: PortalConfig;
  auth: Auth;
  api: Api;
  session: Session;
  /** Says a status change to screen readers (the page's polite live region). */
  announce(message: string): void;
}

export const App = createContext<AppContext | undefined>(undefined);

export function useApp(): AppContext {
  const ctx = useContext(App);
  if (!ctx) throw new Error('useApp outside the signed-in app');
  return ctx;
}

/** How often lists and grant pages ask for news. */
export const POLL_INTERVAL_MS = 3000;

/** Runs `tick` now and every `intervalMs` while the page is visible; the latest `tick` is used each time. */
export function usePolling(tick: () => Promise<void> | void, intervalMs: number, deps: unknown[]): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      if (stopped) return;
      if (document.visibilityState !== 'hidden') await Promise.resolve(latest.current()).catch(() => undefined);
      if (!stopped) timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}
