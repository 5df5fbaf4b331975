// fetch with the Catalyst envelope: `{success: true, data}` or `{success: false, error, errors?}`.

export class ApiError extends Error {
  readonly status: number;
  /** Per-field messages, e.g. from `PUT /api/plugins/:name/config`. */
  readonly fieldErrors: Record<string, string>;
  readonly body: unknown;

  constructor(message: string, status: number, fieldErrors: Record<string, string> = {}, body?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.body = body;
  }
}

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever the API answers 401 (the session expired or was revoked elsewhere). */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** Do not report a 401 to the session (the login call itself, `/auth/me` probes). */
  quiet401?: boolean;
}

export function withQuery(path: string, query?: RequestOptions["query"]): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const text = params.toString();
  if (!text) return path;
  return path + (path.includes("?") ? "&" : "?") + text;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Call `url` and return the parsed JSON body. Throws {@link ApiError} for a non-2xx answer or a
 * body with `success: false`. The session cookie goes along (same origin).
 */
export async function requestJson(url: string, options: RequestOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(withQuery(url, options.query), {
      method: options.method ?? (body === undefined ? "GET" : "POST"),
      headers,
      body,
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError("Cannot reach the Catalyst server", 0);
  }
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  const failed = !response.ok || (isRecord(parsed) && parsed.success === false);
  if (failed) {
    if (response.status === 401 && !options.quiet401) {
      for (const listener of unauthorizedListeners) listener();
    }
    let message = `${response.status} ${response.statusText}`.trim();
    let fieldErrors: Record<string, string> = {};
    if (isRecord(parsed)) {
      if (typeof parsed.error === "string") message = parsed.error;
      else if (typeof parsed.detail === "string") message = parsed.detail;
      if (isRecord(parsed.errors)) {
        fieldErrors = Object.fromEntries(
          Object.entries(parsed.errors).map(([k, v]) => [k, String(v)]),
        );
      }
    } else if (typeof parsed === "string" && parsed.length < 300) {
      message = parsed || message;
    }
    throw new ApiError(message || "Request failed", response.status, fieldErrors, parsed);
  }
  return parsed;
}

/** Call a host API and return its `data` (the envelope's payload). */
export async function api<T>(url: string, options: RequestOptions = {}): Promise<T> {
  const body = await requestJson(url, options);
  return (isRecord(body) && "data" in body ? body.data : undefined) as T;
}

/** Like {@link api} but also returns the envelope's `message`. */
export async function apiWithMessage<T>(
  url: string,
  options: RequestOptions = {},
): Promise<{ data: T; message: string | undefined }> {
  const body = await requestJson(url, options);
  const record = isRecord(body) ? body : {};
  return {
    data: record.data as T,
    message: typeof record.message === "string" ? record.message : undefined,
  };
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
