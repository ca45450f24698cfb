/**
 * The hub as the shipper sees it: POSTs to the configured hub with the API key, this home's id, the upload
 * timeouts and retries, all ending when the cycle is aborted.
 */
import type { ResolvedConfig } from "../config/load.ts";
import { postWithRetry, type HttpOptions, type HttpResult } from "./http.ts";

export type HubClient = {
  /** POSTs `body` to `${apiUrl}${path}`; `onRetry` runs before each retry wait. */
  post(path: string, body: Buffer | string, contentType: string, onRetry: HttpOptions["onRetry"]): Promise<HttpResult>;
};

export function createHubClient(config: ResolvedConfig, homeId: string, signal: AbortSignal, random?: () => number): HubClient {
  return {
    post: (path, body, contentType, onRetry) =>
      postWithRetry(`${config.apiUrl}${path}`, body, contentType, {
        apiKey: config.apiKey,
        homeId,
        timeoutMs: config.upload.timeoutMs,
        retryAttempts: config.upload.retryAttempts,
        retryBackoffMs: config.upload.retryBackoffMs,
        signal,
        ...(random ? { random } : {}),
        ...(onRetry ? { onRetry } : {}),
      }),
  };
}
