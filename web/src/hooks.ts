import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api';
import { type HiveEvent, live } from './live';

/**
 * Fetches a route; fetches again when `deps` change or when a live event passes `refetchOn`. Refetches are
 * throttled (at most one per `throttleMs`) and never overlap, so a burst of events costs a few requests, and a
 * slow answer can never overwrite a newer one.
 */
export function useApi<T>(
  path: string | null,
  refetchOn?: (e: HiveEvent) => boolean,
  deps: unknown[] = [],
  throttleMs = 300,
  /** Also fetch on this period (for values that change without an event, such as heartbeats). */
  pollMs?: number,
) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const shown = useRef<string | null>(null);
  useEffect(() => {
    if (shown.current !== path) {
      // Another resource: never show the previous one's data under the new one's title.
      shown.current = path;
      setData(null);
      setError(null);
    }
    if (!path) return;
    let alive = true;
    let timer: number | undefined;
    let inFlight = false;
    let again = false;
    let lastLoad = 0;
    const load = async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      lastLoad = Date.now();
      try {
        const d = await api<T>(path);
        if (alive) {
          setData(d);
          setError(null);
        }
      } catch (e) {
        if (alive) setError(String((e as Error).message));
      } finally {
        inFlight = false;
        if (again && alive) {
          again = false;
          schedule();
        }
      }
    };
    const schedule = () => {
      if (timer !== undefined) return;
      const wait = Math.max(0, throttleMs - (Date.now() - lastLoad));
      timer = window.setTimeout(() => {
        timer = undefined;
        void load();
      }, wait);
    };
    void load();
    const unsub = refetchOn
      ? live.subscribe((batch) => {
          if (batch.some(refetchOn)) schedule();
        })
      : undefined;
    const poll = pollMs ? window.setInterval(() => !document.hidden && schedule(), pollMs) : undefined;
    return () => {
      alive = false;
      unsub?.();
      if (timer !== undefined) clearTimeout(timer);
      if (poll !== undefined) clearInterval(poll);
    };
  }, [path, reload, ...deps]);
  return { data, error, reload: () => setReload((n) => n + 1) };
}

/** Calls `fn` with each per-frame batch of live events; the latest `fn` is used without resubscribing. */
export function useLive(fn: (batch: HiveEvent[]) => void, deps: unknown[] = []) {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => live.subscribe((b) => ref.current(b)), deps);
}

export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
