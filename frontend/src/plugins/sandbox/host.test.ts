import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../lib/api";
import type { SocketMessage } from "../../lib/types";
import { attachSandboxHost, type BridgeSocket, type SandboxHostOptions } from "./host";
import { SANDBOX_PROTOCOL, type SandboxPluginInfo } from "./protocol";

const plugin: SandboxPluginInfo = {
  name: "demo",
  version: "1.0.0",
  displayName: "Demo",
  description: "",
  author: "",
  status: "enabled",
  enabled: true,
  loadedAt: null,
  hasBackend: true,
  hasFrontend: true,
  frontendEntry: "frontend/index.js",
  runtime: { runtime: "process" },
};

function fakeSocket() {
  const handlers: ((m: SocketMessage) => void)[] = [];
  const socket: BridgeSocket & { sent: SocketMessage[]; push: (m: SocketMessage) => void } = {
    status: "open",
    sent: [],
    send(message) {
      this.sent.push(message);
      return true;
    },
    subscribe(pattern, handler) {
      const wrapped = (m: SocketMessage) => {
        if (m.type.startsWith(pattern.slice(0, -1))) handler(m);
      };
      handlers.push(wrapped);
      return () => handlers.splice(handlers.indexOf(wrapped), 1);
    },
    onStatus: () => () => {},
    push: (m) => handlers.forEach((h) => h(m)),
  };
  return socket;
}

let frame: HTMLIFrameElement;
let other: HTMLIFrameElement;
let posted: unknown[];
let detach: () => void;
let socket: ReturnType<typeof fakeSocket>;
let options: SandboxHostOptions;

function fromFrame(data: Record<string, unknown>, { source = frame.contentWindow, origin = "null" } = {}) {
  window.dispatchEvent(new MessageEvent("message", { data: { catalyst: SANDBOX_PROTOCOL, ...data }, source, origin }));
}

const replies = () => posted.filter((m) => (m as { kind: string }).kind === "reply") as Record<string, unknown>[];

beforeEach(() => {
  frame = document.createElement("iframe");
  other = document.createElement("iframe");
  document.body.append(frame, other);
  posted = [];
  vi.spyOn(frame.contentWindow!, "postMessage").mockImplementation((m: unknown) => void posted.push(m));
  socket = fakeSocket();
  options = {
    plugin,
    source: "export default {}",
    target: { kind: "tab", id: "t", location: "admin" },
    user: { id: 1, username: "admin", roles: ["admin"], permissions: ["*"] },
    socket,
    theme: () => "dark",
    subscribeTheme: () => () => {},
    request: vi.fn().mockResolvedValue({ success: true, data: { message: "hi" } }),
    navigate: vi.fn(),
    toast: vi.fn(),
    sdkVersion: "1.0.0",
    origin: window.location.origin,
    onResize: vi.fn(),
    onRefused: vi.fn(),
  };
  detach = attachSandboxHost(frame, options);
});

afterEach(() => {
  detach();
  frame.remove();
  other.remove();
});

const flush = () => new Promise((r) => setTimeout(r, 0));

describe("the host side of the bridge", () => {
  it("answers ready with the module, the target, the theme and the user", () => {
    fromFrame({ kind: "ready" });
    expect(posted).toEqual([
      expect.objectContaining({ kind: "init", source: "export default {}", theme: "dark", plugin, socketOpen: true }),
    ]);
  });

  it("ignores messages from another window or another origin", async () => {
    fromFrame({ kind: "ready" }, { source: other.contentWindow });
    fromFrame({ kind: "ready" }, { origin: window.location.origin });
    fromFrame({ kind: "api", id: 1, method: "GET", path: "/api/plugins/demo/x" }, { source: other.contentWindow });
    window.dispatchEvent(new MessageEvent("message", { data: { kind: "ready" }, source: frame.contentWindow, origin: "null" }));
    await flush();
    expect(posted).toEqual([]);
    expect(options.request).not.toHaveBeenCalled();
  });

  it("calls the plugin's own routes for the frame and returns the body", async () => {
    fromFrame({ kind: "api", id: 7, method: "post", path: "/api/plugins/demo/echo", body: { a: 1 } });
    await flush();
    expect(options.request).toHaveBeenCalledWith("/api/plugins/demo/echo", {
      method: "POST",
      body: { a: 1 },
      query: undefined,
      quiet401: true,
    });
    expect(replies()).toEqual([expect.objectContaining({ id: 7, ok: true, body: { success: true, data: { message: "hi" } } })]);
  });

  it.each(["/api/users", "/api/plugins/demo/enable", "/api/plugins/demo", "/api/plugins/other/x", "/api/plugins/demo/../../users"])(
    "refuses %s without making the call",
    async (path) => {
      fromFrame({ kind: "api", id: 3, method: "POST", path, body: {} });
      await flush();
      expect(options.request).not.toHaveBeenCalled();
      expect(replies()).toEqual([expect.objectContaining({ id: 3, ok: false, status: 403 })]);
      expect(String(replies()[0].message)).toMatch(/Refused by the plugin sandbox/);
    },
  );

  it("passes an API error on with its status and field errors", async () => {
    options.request = vi.fn().mockRejectedValue(new ApiError("Plugin is disabled", 503, { f: "bad" }));
    detach();
    detach = attachSandboxHost(frame, options);
    fromFrame({ kind: "api", id: 4, method: "GET", path: "/api/plugins/demo/hello" });
    await flush();
    expect(replies()).toEqual([
      expect.objectContaining({ id: 4, ok: false, status: 503, message: "Plugin is disabled", fieldErrors: { f: "bad" } }),
    ]);
  });

  it("relays only the plugin's own WebSocket messages, both ways", () => {
    fromFrame({ kind: "ready" });
    fromFrame({ kind: "ws-send", type: "plugin:demo:ping", data: { id: 1 } });
    fromFrame({ kind: "ws-send", type: "plugin:other:ping" });
    fromFrame({ kind: "ws-send", type: "subscribe", data: { topics: ["*"] } });
    expect(socket.sent).toEqual([{ type: "plugin:demo:ping", data: { id: 1 } }]);
    socket.push({ type: "plugin:demo:pong", data: 1 });
    socket.push({ type: "plugin:other:pong", data: 2 });
    expect(posted.filter((m) => (m as { kind: string }).kind === "socket")).toEqual([
      expect.objectContaining({ message: { type: "plugin:demo:pong", data: 1 } }),
    ]);
  });

  it("keeps relaying after it attaches again to a frame that already started", () => {
    fromFrame({ kind: "ready" });
    detach();
    detach = attachSandboxHost(frame, options);
    socket.push({ type: "plugin:demo:pong", data: 3 });
    expect(posted.filter((m) => (m as { kind: string }).kind === "socket")).toEqual([
      expect.objectContaining({ message: { type: "plugin:demo:pong", data: 3 } }),
    ]);
  });

  it("navigates inside the app only, shows toasts and sizes the frame", () => {
    fromFrame({ kind: "navigate", to: "/plugins" });
    fromFrame({ kind: "navigate", to: "https://evil.example/" });
    fromFrame({ kind: "toast", tone: "success", message: "Saved" });
    fromFrame({ kind: "toast", tone: "html", message: "<b>x</b>" });
    fromFrame({ kind: "resize", height: 321.5 });
    expect(options.navigate).toHaveBeenCalledTimes(1);
    expect(options.navigate).toHaveBeenCalledWith("/plugins");
    expect(options.toast).toHaveBeenCalledTimes(1);
    expect(options.toast).toHaveBeenCalledWith("success", "Saved");
    expect(options.onResize).toHaveBeenCalledWith(322);
  });

  it("stops listening once detached", async () => {
    detach();
    fromFrame({ kind: "api", id: 1, method: "GET", path: "/api/plugins/demo/hello" });
    await flush();
    expect(options.request).not.toHaveBeenCalled();
    detach = () => {};
  });
});
