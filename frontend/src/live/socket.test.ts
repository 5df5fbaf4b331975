import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CatalystSocket, typeMatches } from "./socket";

class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeWebSocket.instances.push(this);
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  drop(code = 1006) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

function newSocket() {
  return new CatalystSocket({
    url: "ws://test/ws",
    WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket,
    minDelayMs: 100,
    maxDelayMs: 1000,
    random: () => 0.5,
  });
}

beforeEach(() => {
  FakeWebSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe("typeMatches", () => {
  it("matches exact types, prefixes and everything", () => {
    expect(typeMatches("plugins:updated", "plugins:updated")).toBe(true);
    expect(typeMatches("plugin:x:*", "plugin:x:pong")).toBe(true);
    expect(typeMatches("plugin:x:*", "plugin:xy:pong")).toBe(false);
    expect(typeMatches("*", "anything")).toBe(true);
    expect(typeMatches("plugin:x", "plugin:x:pong")).toBe(false);
  });
});

describe("CatalystSocket", () => {
  it("delivers messages to matching subscribers and remembers its client id", () => {
    const socket = newSocket();
    const all = vi.fn();
    const plugins = vi.fn();
    socket.subscribe("*", all);
    const off = socket.subscribe("plugins:updated", plugins);
    socket.start();
    const ws = FakeWebSocket.instances[0];
    ws.open();
    ws.receive({ type: "welcome", data: { clientId: "c1" } });
    ws.receive({ type: "plugins:updated", data: { name: "x" } });
    off();
    ws.receive({ type: "plugins:updated", data: { name: "y" } });
    expect(socket.clientId).toBe("c1");
    expect(all).toHaveBeenCalledTimes(3);
    expect(plugins).toHaveBeenCalledTimes(1);
    expect(plugins).toHaveBeenCalledWith({ type: "plugins:updated", data: { name: "x" } });
    socket.stop();
  });

  it("queues what is sent before it is open, and sends it on open", () => {
    const socket = newSocket();
    expect(socket.send({ type: "early" })).toBe(false); // not started: dropped
    socket.start();
    socket.send({ type: "plugin:p:ping", data: 1 });
    const ws = FakeWebSocket.instances[0];
    ws.open();
    expect(ws.sent).toEqual([JSON.stringify({ type: "plugin:p:ping", data: 1 })]);
    expect(socket.send({ type: "now" })).toBe(true);
    socket.stop();
  });

  it("reconnects with a growing, capped delay and reports the reconnection", () => {
    const socket = newSocket();
    const statuses: string[] = [];
    socket.onStatus((s) => statuses.push(s));
    const reconnected = vi.fn();
    socket.onReconnect(reconnected);
    socket.start();
    FakeWebSocket.instances[0].open();
    expect(reconnected).not.toHaveBeenCalled();

    FakeWebSocket.instances[0].drop();
    expect(socket.status).toBe("closed");
    vi.advanceTimersByTime(99);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.instances[1].drop(); // second failure: 200 ms
    vi.advanceTimersByTime(199);
    expect(FakeWebSocket.instances).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(3);
    FakeWebSocket.instances[2].open();
    expect(reconnected).toHaveBeenCalledTimes(1);
    expect(statuses).toEqual(["connecting", "open", "closed", "connecting", "closed", "connecting", "open"]);
    socket.stop();
    expect(socket.status).toBe("idle");
  });

  it("computes backoff delays with jitter", () => {
    const socket = new CatalystSocket({ minDelayMs: 500, maxDelayMs: 15000, random: () => 0 });
    expect([0, 1, 2, 3, 10].map((n) => socket.backoffDelay(n))).toEqual([400, 800, 1600, 3200, 12000]);
    const high = new CatalystSocket({ minDelayMs: 500, maxDelayMs: 15000, random: () => 1 });
    expect(high.backoffDelay(10)).toBe(18000);
  });

  it("reports a close for lack of authentication", () => {
    const socket = newSocket();
    const failed = vi.fn();
    socket.onAuthFailure(failed);
    socket.start();
    FakeWebSocket.instances[0].drop(1006);
    expect(failed).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    FakeWebSocket.instances[1].drop(4401);
    expect(failed).toHaveBeenCalledTimes(1);
    socket.stop();
  });

  it("stops reconnecting after stop()", () => {
    const socket = newSocket();
    socket.start();
    FakeWebSocket.instances[0].open();
    socket.stop();
    vi.advanceTimersByTime(10_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("keeps delivering when one subscriber throws", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const socket = newSocket();
    const good = vi.fn();
    socket.subscribe("x", () => {
      throw new Error("bad subscriber");
    });
    socket.subscribe("x", good);
    socket.dispatch({ type: "x" });
    expect(good).toHaveBeenCalled();
  });
});
