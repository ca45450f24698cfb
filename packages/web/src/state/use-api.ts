/**
 * Data for a panel: `useApi(url)` fetches JSON, refetches when the URL or the live revision changes, and
 * keeps showing the previous answer while the next one loads (no flashing, no layout shift on refresh).
 * Answers are cached per URL and revision, so going back to a view paints at once. An answer that arrives
 * after a newer request was made is dropped; requests are not aborted, because a cancelled fetch would
 * only look like a failure in the browser's network log.
 */
import { useContext, useEffect, useState } from "preact/hooks";
import { ApiError, getJson } from "../api/client.ts";
import { LiveContext } from "./live.ts";

export type ApiState<T> = {
  data: T | null;
  error: ApiError | null;
  /** True while a request for the current URL and revision is in flight (data may be the previous one). */
  loading: boolean;
  retry(): void;
};

const MAX_CACHED = 100;
const cache = new Map<string, { revision: number; data: unknown }>();

function remember(url: string, revision: number, data: unknown): void {
  cache.delete(url);
  cache.set(url, { revision, data });
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
}

type Loaded<T> = { key: string; data: T | null; error: ApiError | null; loading: boolean };

export function useApi<T>(url: string | null): ApiState<T> {
  const { revision } = useContext(LiveContext);
  const [nonce, setNonce] = useState(0);
  const key = `${url}#${revision}#${nonce}`;
  const [state, setState] = useState<Loaded<T>>(() => {
    const hit = url ? cache.get(url) : undefined;
    return hit && hit.revision === revision ? { key, data: hit.data as T, error: null, loading: false } : { key: "", data: null, error: null, loading: url !== null };
  });

  useEffect(() => {
    if (url === null) {
      setState({ key, data: null, error: null, loading: false });
      return;
    }
    const hit = cache.get(url);
    if (hit && hit.revision === revision && nonce === 0) {
      setState({ key, data: hit.data as T, error: null, loading: false });
      return;
    }
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    getJson<T>(url).then(
      (data) => {
        remember(url, revision, data);
        if (current) setState({ key, data, error: null, loading: false });
      },
      (error: unknown) => {
        const e = error instanceof ApiError ? error : new ApiError(0, "client", String(error));
        if (current) setState((s) => ({ key, data: s.data, error: e, loading: false }));
      },
    );
    return () => {
      current = false;
    };
  }, [key]);

  return {
    data: state.data,
    // An error from an earlier URL is not this URL's error.
    error: state.key === key ? state.error : null,
    loading: state.key !== key || state.loading,
    retry: () => setNonce((n) => n + 1),
  };
}
