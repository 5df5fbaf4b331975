// The frame side of the bridge: requests to the host page by postMessage, and what the host
// pushes (the module, the theme, the plugin's WebSocket messages). The frame has an opaque
// origin, so it can only trust messages from its parent window.

import { ApiError, withQuery, type RequestOptions } from "../lib/api";
import type { SocketMessage } from "../lib/types";
import { SANDBOX_PROTOCOL, isProtocolMessage, type FrameMessage, type HostMessage } from "../plugins/sandbox/protocol";

type Init = Extract<HostMessage, { kind: "init" }>;
type Reply = Extract<HostMessage, { kind: "reply" }>;
type Distribute<T> = T extends unknown ? Omit<T, "catalyst"> : never;
type Outgoing = Distribute<FrameMessage>;

export class FrameClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly socketHandlers = new Set<(message: SocketMessage) => void>();
  private readonly statusListeners = new Set<() => void>();
  private readonly themeListeners = new Set<(theme: string) => void>();
  socketOpen = false;
  private initResolve: ((init: Init) => void) | null = null;
  readonly initialized: Promise<Init>;

  constructor(
    private readonly parent: Window,
    self: Window,
  ) {
    this.initialized = new Promise((resolve) => {
      this.initResolve = resolve;
    });
    self.addEventListener("message", (event) => {
      if (event.source !== this.parent || !isProtocolMessage(event.data)) return;
      this.receive(event.data as HostMessage);
    });
  }

  post(message: Outgoing): void {
    this.parent.postMessage({ catalyst: SANDBOX_PROTOCOL, ...message }, "*");
  }

  /** Say "ready" until the host answers with the module (it may attach a moment later). */
  announce(every = 200, times = 50): void {
    let count = 0;
    const tick = () => {
      if (this.initResolve === null || count++ >= times) return;
      this.post({ kind: "ready" });
      setTimeout(tick, every);
    };
    tick();
  }

  private receive(message: HostMessage): void {
    switch (message.kind) {
      case "init":
        if (this.initResolve) {
          this.socketOpen = message.socketOpen;
          this.initResolve(message);
          this.initResolve = null;
        }
        return;
      case "reply":
        return this.settle(message);
      case "theme":
        for (const listener of this.themeListeners) listener(message.theme);
        return;
      case "socket":
        for (const handler of this.socketHandlers) handler(message.message);
        return;
      case "socket-status":
        this.socketOpen = message.open;
        for (const listener of this.statusListeners) listener();
        return;
    }
  }

  private settle(reply: Reply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.body);
    else waiting.reject(new ApiError(reply.message, reply.status, reply.fieldErrors, reply.body));
  }

  /** `requestJson` over the bridge: the host checks the path and makes the call. */
  request(url: string, options: RequestOptions = {}): Promise<unknown> {
    const id = this.nextId++;
    const method = options.method ?? (options.body === undefined ? "GET" : "POST");
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(new DOMException("Aborted", "AbortError"));
      options.signal?.addEventListener("abort", () => {
        this.pending.delete(id);
        reject(new DOMException("Aborted", "AbortError"));
      });
      this.pending.set(id, { resolve, reject });
      this.post({ kind: "api", id, method, path: withQuery(url, options.query), body: options.body });
    });
  }

  onSocket(handler: (message: SocketMessage) => void): () => void {
    this.socketHandlers.add(handler);
    return () => this.socketHandlers.delete(handler);
  }

  onSocketStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  onTheme(listener: (theme: string) => void): () => void {
    this.themeListeners.add(listener);
    return () => this.themeListeners.delete(listener);
  }
}
