import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api';
import { type HiveEvent, live } from './live';

/** Fetches a route; refetches when `deps` change or when a live event passes `refetchOn` (throttled). */
export function useApi<T>(path: string | null, refetchOn?: (e: HiveEvent) => boolean, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tick = useRef(0);
  useEffect(() => {
    if (!path) return;
    let alive = true;
    let timer: number | undefined;
    const load = () =>
      api<T>(path).then(
        (d) => {
          if (!alive) return;
          setData(d);
          setError(null);
        },
        (e) => {
          if (alive) setError(String(e.message));
        },
      );
    void load();
    const unsub = refetchOn
      ? live.subscribe((batch) => {
          if (!batch.some(refetchOn) || timer) return;
          timer = window.setTimeout(() => {
            timer = undefined;
            tick.current++;
            void load();
          }, 150);
        })
      : undefined;
    return () => {
      alive = false;
      unsub?.();
      if (timer) clearTimeout(timer);
    };
  }, [path, ...deps]);
  return { data, error };
}

export function useLive(fn: (batch: HiveEvent[]) => void, deps: unknown[] = []) {
  useEffect(() => live.subscribe(fn), deps);
}

export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
