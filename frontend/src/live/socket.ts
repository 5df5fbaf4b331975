// One WebSocket to the host's `/ws`, shared by the whole UI and every plugin frontend.
// It reconnects with exponential backoff (and jitter) and tells subscribers when it is back, so
// they can refetch what they may have missed while it was down.

import type { SocketMessage } from "../lib/types";

/** The close code the host uses for a socket without a valid session. */
export const CLOSE_UNAUTHENTICATED = 4401;

export type SocketStatus = "idle" | "connecting" | "open" | "closed";
export type MessageHandler = (message: SocketMessage) => void;

export interface SocketOptions {
  /** The URL to connect to; by default `/ws` on this page's host. */
  url?: string | (() => string);
  /** Injected in tests. */
  WebSocketImpl?: typeof WebSocket;
  minDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
}

interface Subscription {
  pattern: string;
  handler: MessageHandler;
}

export function defaultSocketUrl(): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws`;
}

/** `plugin:x:*` matches `plugin:x:pong`; `*` matches everything; otherwise the exact type. */
export function typeMatches(pattern: string, type: string): boolean {
  if (pattern === "*" || pattern === type) return true;
  return pattern.endsWith("*") && type.startsWith(pattern.slice(0, -1));
}

export class CatalystSocket {
  private ws: WebSocket | null = null;
  private readonly subscriptions = new Set<Subscription>();
  private readonly statusListeners = new Set<(status: SocketStatus) => void>();
  private readonly reconnectListeners = new Set<() => void>();
  private readonly authFailureListeners = new Set<() => void>();
  private readonly outbox: string[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempts = 0;
  private wanted = false;
  private everOpened = false;
  private _status: SocketStatus = "idle";
  clientId: string | null = null;

  constructor(private readonly options: SocketOptions = {}) {}

  get status(): SocketStatus {
    return this._status;
  }

  /** Connect, and keep reconnecting until {@link stop}. */
  start(): void {
    if (this.wanted) return;
    this.wanted = true;
    this.connect();
  }

  stop(): void {
    this.wanted = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    this.outbox.length = 0;
    this.everOpened = false;
    this.attempts = 0;
    if (ws) {
      ws.onopen = ws.onclose = ws.onmessage = ws.onerror = null;
      try {
        ws.close(1000, "logout");
      } catch {
        /* already closed */
      }
    }
    this.setStatus("idle");
  }

  /** Send a message now, or as soon as the socket is open (a few are kept meanwhile). */
  send(message: SocketMessage): boolean {
    const text = JSON.stringify(message);
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send(text);
      return true;
    }
    if (!this.wanted) return false;
    if (this.outbox.length < 100) this.outbox.push(text);
    return false;
  }

  /** Receive every message whose type matches `pattern` (see {@link typeMatches}). */
  subscribe(pattern: string, handler: MessageHandler): () => void {
    const sub = { pattern, handler };
    this.subscriptions.add(sub);
    return () => {
      this.subscriptions.delete(sub);
    };
  }

  onStatus(listener: (status: SocketStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  }

  /** Called after the socket is open again following a drop (not on the first connection). */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => {
      this.reconnectListeners.delete(listener);
    };
  }

  /** Called when the server closes the socket as unauthenticated (code 4401). */
  onAuthFailure(listener: () => void): () => void {
    this.authFailureListeners.add(listener);
    return () => {
      this.authFailureListeners.delete(listener);
    };
  }

  /** The delay before reconnect attempt `attempt` (0-based): doubling, capped, ±20 % jitter. */
  backoffDelay(attempt: number): number {
    const min = this.options.minDelayMs ?? 500;
    const max = this.options.maxDelayMs ?? 15000;
    const base = Math.min(max, min * 2 ** attempt);
    const random = this.options.random ?? Math.random;
    return Math.round(base * (0.8 + 0.4 * random()));
  }

  /** Deliver a message as if it came from the server (used by tests and by `dispatch`). */
  dispatch(message: SocketMessage): void {
    for (const sub of [...this.subscriptions]) {
      if (!typeMatches(sub.pattern, message.type)) continue;
      try {
        sub.handler(message);
      } catch (error) {
        console.error("WebSocket subscriber failed", message.type, error);
      }
    }
  }

  private setStatus(status: SocketStatus): void {
    if (status === this._status) return;
    this._status = status;
    for (const listener of [...this.statusListeners]) listener(status);
  }

  private connect(): void {
    if (!this.wanted) return;
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    const raw = this.options.url ?? defaultSocketUrl;
    const url = typeof raw === "function" ? raw() : raw;
    this.setStatus("connecting");
    let ws: WebSocket;
    try {
      ws = new Impl(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempts = 0;
      this.setStatus("open");
      for (const text of this.outbox.splice(0)) ws.send(text);
      if (reconnected) for (const listener of [...this.reconnectListeners]) listener();
    };
    ws.onmessage = (event: MessageEvent) => {
      let message: SocketMessage;
      try {
        message = JSON.parse(String(event.data)) as SocketMessage;
      } catch {
        return;
      }
      if (!message || typeof message.type !== "string") return;
      if (message.type === "welcome") {
        const data = message.data as { clientId?: string } | undefined;
        this.clientId = data?.clientId ?? null;
      }
      this.dispatch(message);
    };
    ws.onerror = () => {
      /* onclose follows and reconnects */
    };
    ws.onclose = (event: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clientId = null;
      if (event?.code === CLOSE_UNAUTHENTICATED) {
        for (const listener of [...this.authFailureListeners]) listener();
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (!this.wanted) return;
    this.setStatus("closed");
    const delay = this.backoffDelay(this.attempts);
    this.attempts += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }
}
