// What the host lets a sandboxed plugin frame do, as pure functions (unit-tested). The host
// answers only what these allow; everything else is refused before any request is made.

/** The host's admin routes under `/api/plugins/<name>/…`: never reachable from a frame. */
export const ADMIN_SUBPATHS: ReadonlySet<string> = new Set([
  "enable",
  "reload",
  "config",
  "logs",
  "tasks",
  "frontend",
  "permissions",
]);

export const API_METHODS: ReadonlySet<string> = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

/** The largest height a frame may ask for, in CSS pixels. */
export const MAX_FRAME_HEIGHT = 20_000;
export const MAX_TOAST_LENGTH = 500;

export type Verdict = { ok: true; url: string } | { ok: false; reason: string };

function refuse(reason: string): Verdict {
  return { ok: false, reason };
}

/**
 * Whether a frame of plugin `plugin` may call `method path`: only the plugin's own routes under
 * `/api/plugins/<plugin>/`, never the bare detail path nor an admin sub-path, nothing that walks
 * out with `..`, encoded slashes or backslashes, and nothing on another origin. Returns the URL
 * (path and query) to request.
 */
export function checkApiCall(plugin: string, method: string, path: string, origin: string): Verdict {
  if (typeof method !== "string" || !API_METHODS.has(method.toUpperCase())) return refuse(`method ${String(method)} is not allowed`);
  if (typeof path !== "string" || !path) return refuse("no path");
  if (path.includes("\\")) return refuse("backslashes are not allowed");
  const base = `/api/plugins/${encodeURIComponent(plugin)}`;
  let url: URL;
  try {
    url = new URL(path, origin);
  } catch {
    return refuse("not a URL");
  }
  if (url.origin !== origin) return refuse("only the host's own API");
  if (url.username || url.password) return refuse("no credentials in the URL");
  const raw = url.pathname;
  if (!raw.startsWith(`${base}/`)) return refuse(`only ${base}/… is allowed`);
  const rest = raw.slice(base.length + 1);
  // Encoded separators and dots could be decoded into another path by the server.
  if (/%2f|%5c|%2e/i.test(rest)) return refuse("encoded separators are not allowed");
  const segments = rest.split("/");
  if (!rest || segments.every((s) => s === "")) return refuse("the plugin's admin detail is not reachable");
  if (segments.some((s) => s === "." || s === "..")) return refuse("dot segments are not allowed");
  if (ADMIN_SUBPATHS.has(segments[0].toLowerCase())) return refuse(`/${segments[0]} is an admin route`);
  return { ok: true, url: url.pathname + url.search };
}

/** A frame may send only its own plugin's WebSocket messages. */
export function checkSocketType(plugin: string, type: unknown): boolean {
  const prefix = `plugin:${plugin}:`;
  return typeof type === "string" && type.startsWith(prefix) && type.length > prefix.length && !type.includes("*");
}

/** A received message goes to a frame only when it is its plugin's. */
export function deliverable(plugin: string, type: unknown): boolean {
  return typeof type === "string" && type.startsWith(`plugin:${plugin}:`);
}

/** Navigation stays inside the admin app: a path on this origin, never a scheme or `//host`. */
export function checkNavigation(to: unknown): to is string {
  return (
    typeof to === "string" &&
    to.startsWith("/") &&
    !to.startsWith("//") &&
    !to.includes("\\") &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f]/.test(to) &&
    to.length <= 2000
  );
}

export type ToastTone = "success" | "error" | "info";

export function checkToast(tone: unknown, message: unknown): { tone: ToastTone; message: string } | null {
  if (tone !== "success" && tone !== "error" && tone !== "info") return null;
  if (typeof message !== "string" || !message.trim()) return null;
  return { tone, message: message.slice(0, MAX_TOAST_LENGTH) };
}

export function clampHeight(height: unknown): number | null {
  if (typeof height !== "number" || !Number.isFinite(height)) return null;
  return Math.min(MAX_FRAME_HEIGHT, Math.max(0, Math.ceil(height)));
}
