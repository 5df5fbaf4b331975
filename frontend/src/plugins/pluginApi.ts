// The fetch helper a plugin's frontend gets for its own routes, in the page and in a sandboxed
// frame alike: only the transport differs (the page's fetch, or the frame's bridge).

import { requestJson, type RequestOptions } from "../lib/api";

/** How a request is sent: the page's `requestJson`, or a sandboxed frame's bridge. */
export type Transport = (url: string, options: RequestOptions) => Promise<unknown>;

export type PluginRequestOptions = Omit<RequestOptions, "method" | "body" | "quiet401">;

export interface PluginApi {
  /** `/api/plugins/<name>` */
  readonly base: string;
  request<T = unknown>(method: string, path: string, body?: unknown, options?: PluginRequestOptions): Promise<T>;
  get<T = unknown>(path: string, options?: PluginRequestOptions): Promise<T>;
  post<T = unknown>(path: string, body?: unknown, options?: PluginRequestOptions): Promise<T>;
  put<T = unknown>(path: string, body?: unknown, options?: PluginRequestOptions): Promise<T>;
  patch<T = unknown>(path: string, body?: unknown, options?: PluginRequestOptions): Promise<T>;
  delete<T = unknown>(path: string, options?: PluginRequestOptions): Promise<T>;
}

/**
 * A fetch helper bound to `/api/plugins/<name>`: JSON in, the parsed JSON body out. Throws an
 * `ApiError` (with `.status` and the server's message) on an error status or `success: false`,
 * e.g. `503 "Plugin is disabled"`.
 */
export function createPluginApi(name: string, send: Transport = requestJson): PluginApi {
  const base = `/api/plugins/${encodeURIComponent(name)}`;
  const url = (path: string) => base + (path.startsWith("/") ? path : `/${path}`);
  const request = <T,>(method: string, path: string, body?: unknown, options?: PluginRequestOptions) =>
    send(url(path), { ...options, method, body }) as Promise<T>;
  return {
    base,
    request,
    get: (path, options) => request("GET", path, undefined, options),
    post: (path, body, options) => request("POST", path, body ?? {}, options),
    put: (path, body, options) => request("PUT", path, body ?? {}, options),
    patch: (path, body, options) => request("PATCH", path, body ?? {}, options),
    delete: (path, options) => request("DELETE", path, undefined, options),
  };
}
