// The host side of the bridge: one per sandboxed frame. It trusts only messages that come from
// that frame's window with the opaque origin "null", and offers only what rules.ts allows:
// the plugin's own API routes (called here, with the user's session: no token crosses into the
// frame), the plugin's own WebSocket messages, navigation inside the app, toasts, the theme
// and the frame's height.

import { ApiError, type RequestOptions } from "../../lib/api";
import type { SocketMessage, User } from "../../lib/types";
import {
  SANDBOX_PROTOCOL,
  isProtocolMessage,
  type ContributionInfo,
  type FrameTarget,
  type HostMessage,
  type SandboxPluginInfo,
  type Theme,
} from "./protocol";
import { checkApiCall, checkNavigation, checkSocketType, checkToast, clampHeight, deliverable, type ToastTone } from "./rules";

/** The part of CatalystSocket the bridge uses. */
export interface BridgeSocket {
  readonly status: string;
  send(message: SocketMessage): boolean;
  subscribe(pattern: string, handler: (message: SocketMessage) => void): () => void;
  onStatus(listener: (status: string) => void): () => void;
}

export interface SandboxHostOptions {
  plugin: SandboxPluginInfo;
  source: string;
  target: FrameTarget;
  props?: Record<string, unknown>;
  user: User | null;
  socket: BridgeSocket;
  theme: () => Theme;
  subscribeTheme: (listener: (theme: Theme) => void) => () => void;
  request: (url: string, options: RequestOptions) => Promise<unknown>;
  navigate: (to: string) => void;
  toast: (tone: ToastTone, message: string) => void;
  sdkVersion: string;
  /** The host page's origin (`location.origin`): API calls never leave it. */
  origin: string;
  onResize?: (height: number) => void;
  onContributions?: (contributions: ContributionInfo) => void;
  onFailed?: (error: string) => void;
  /** Reported for every refused request (tests, the console). */
  onRefused?: (what: string, reason: string) => void;
}

type Payload = Record<string, unknown>;

/** Start serving `frame`; returns the function that stops it. */
export function attachSandboxHost(frame: HTMLIFrameElement, options: SandboxHostOptions, host: Window = window): () => void {
  const name = options.plugin.name;
  const cleanups: (() => void)[] = [];

  const post = (message: HostMessage) => frame.contentWindow?.postMessage(message, "*");
  const refused = (what: string, reason: string) => {
    if (options.onRefused) options.onRefused(what, reason);
    else console.warn(`Plugin ${name}: refused ${what}: ${reason}`);
  };

  // Relayed from the start, so a host that attaches again to a running frame (new props, a new
  // user object) keeps it served: the frame says "ready" only once per document.
  cleanups.push(
    options.socket.subscribe(`plugin:${name}:*`, (message) => {
      if (deliverable(name, message.type)) post({ catalyst: SANDBOX_PROTOCOL, kind: "socket", message });
    }),
    options.socket.onStatus((status) => post({ catalyst: SANDBOX_PROTOCOL, kind: "socket-status", open: status === "open" })),
    options.subscribeTheme((theme) => post({ catalyst: SANDBOX_PROTOCOL, kind: "theme", theme })),
  );

  const start = () =>
    post({
      catalyst: SANDBOX_PROTOCOL,
      kind: "init",
      plugin: options.plugin,
      source: options.source,
      target: options.target,
      theme: options.theme(),
      user: options.user,
      props: options.props ?? {},
      socketOpen: options.socket.status === "open",
      sdkVersion: options.sdkVersion,
    });

  const api = async (message: Payload) => {
    const id = typeof message.id === "number" ? message.id : -1;
    const method = typeof message.method === "string" ? message.method.toUpperCase() : "";
    const path = typeof message.path === "string" ? message.path : "";
    const verdict = checkApiCall(name, method, path, options.origin);
    if (!verdict.ok) {
      refused(`${method} ${path}`, verdict.reason);
      post({
        catalyst: SANDBOX_PROTOCOL,
        kind: "reply",
        id,
        ok: false,
        status: 403,
        message: `Refused by the plugin sandbox: ${verdict.reason}`,
        fieldErrors: {},
        body: null,
      });
      return;
    }
    const query = typeof message.query === "object" && message.query !== null ? (message.query as RequestOptions["query"]) : undefined;
    try {
      const body = await options.request(verdict.url, { method, body: message.body, query, quiet401: true });
      post({ catalyst: SANDBOX_PROTOCOL, kind: "reply", id, ok: true, body });
    } catch (error) {
      const known = error instanceof ApiError;
      post({
        catalyst: SANDBOX_PROTOCOL,
        kind: "reply",
        id,
        ok: false,
        status: known ? error.status : 0,
        message: error instanceof Error ? error.message : String(error),
        fieldErrors: known ? error.fieldErrors : {},
        body: known ? safeClone(error.body) : null,
      });
    }
  };

  const onMessage = (event: MessageEvent) => {
    if (event.source === null || event.source !== frame.contentWindow || event.origin !== "null") return;
    if (!isProtocolMessage(event.data)) return;
    const message = event.data as unknown as Payload;
    switch (message.kind) {
      case "ready":
        return start();
      case "api":
        return void api(message);
      case "ws-send":
        if (checkSocketType(name, message.type)) options.socket.send({ type: message.type as string, data: message.data });
        else refused(`WebSocket message ${String(message.type)}`, `only plugin:${name}:… may be sent`);
        return;
      case "navigate":
        if (checkNavigation(message.to)) options.navigate(message.to);
        else refused(`navigation to ${String(message.to)}`, "only paths inside the admin app");
        return;
      case "toast": {
        const toast = checkToast(message.tone, message.message);
        if (toast) options.toast(toast.tone, toast.message);
        return;
      }
      case "resize": {
        const height = clampHeight(message.height);
        if (height !== null) options.onResize?.(height);
        return;
      }
      case "contributions":
        options.onContributions?.(message.contributions as ContributionInfo);
        return;
      case "failed":
        options.onFailed?.(String(message.error));
        return;
      default:
        return;
    }
  };

  host.addEventListener("message", onMessage);
  return () => {
    host.removeEventListener("message", onMessage);
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
}

function safeClone(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value ?? null)) as unknown;
  } catch {
    return null;
  }
}
