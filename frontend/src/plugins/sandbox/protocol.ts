// The postMessage protocol between the admin page (the host) and a sandboxed plugin frame.
// Every message carries `catalyst: SANDBOX_PROTOCOL`; anything else is ignored by both sides.
// The frame is `<iframe sandbox="allow-scripts">` (an opaque origin: its messages arrive with
// origin "null"), so the host answers with targetOrigin "*" to that one window only.

import type { SocketMessage, User } from "../../lib/types";

export const SANDBOX_PROTOCOL = "catalyst-sandbox/1";

/** What a frame shows: a tab, a page, one component of a slot, or nothing (it only describes
 * the module's contributions to the host). */
export type FrameTarget =
  | { kind: "describe" }
  | { kind: "tab"; id: string; location: "admin" | "server" }
  | { kind: "page"; path: string }
  | { kind: "slot"; slot: string; index: number };

/** The few facts a sandboxed frontend may know of its own plugin. */
export interface SandboxPluginInfo {
  name: string;
  version: string;
  displayName: string;
  description: string;
  author: string;
  status: string;
  enabled: boolean;
  loadedAt: string | null;
  hasBackend: boolean;
  hasFrontend: boolean;
  frontendEntry: string | null;
  runtime: { runtime: "process" | "inprocess" };
}

export type Theme = "dark" | "light";

/** Host → frame. */
export type HostMessage =
  | {
      catalyst: typeof SANDBOX_PROTOCOL;
      kind: "init";
      plugin: SandboxPluginInfo;
      /** The module's source: the host fetches it (with the user's session) so the frame never
       * needs credentials. */
      source: string;
      target: FrameTarget;
      theme: Theme;
      user: User | null;
      props: Record<string, unknown>;
      socketOpen: boolean;
      sdkVersion: string;
    }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "reply"; id: number; ok: true; body: unknown }
  | {
      catalyst: typeof SANDBOX_PROTOCOL;
      kind: "reply";
      id: number;
      ok: false;
      status: number;
      message: string;
      fieldErrors: Record<string, string>;
      body: unknown;
    }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "theme"; theme: Theme }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "socket"; message: SocketMessage }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "socket-status"; open: boolean };

export interface ContributionInfo {
  tabs: { id: string; label: string; location: "admin" | "server"; requiredPermissions: string[]; order: number }[];
  pages: { path: string; title?: string; requiredPermissions: string[] }[];
  /** Slot name → how many components the module puts there. */
  slots: Record<string, number>;
  warnings: string[];
}

/** Frame → host. */
export type FrameMessage =
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "ready" }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "contributions"; contributions: ContributionInfo }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "failed"; error: string }
  | {
      catalyst: typeof SANDBOX_PROTOCOL;
      kind: "api";
      id: number;
      method: string;
      path: string;
      body?: unknown;
      query?: Record<string, string | number | boolean | null | undefined>;
    }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "ws-send"; type: string; data?: unknown }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "navigate"; to: string }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "toast"; tone: string; message: string }
  | { catalyst: typeof SANDBOX_PROTOCOL; kind: "resize"; height: number };

export function isProtocolMessage(data: unknown): data is { catalyst: string; kind: string } {
  return (
    typeof data === "object" &&
    data !== null &&
    (data as { catalyst?: unknown }).catalyst === SANDBOX_PROTOCOL &&
    typeof (data as { kind?: unknown }).kind === "string"
  );
}
