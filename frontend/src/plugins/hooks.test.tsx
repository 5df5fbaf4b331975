import { act, render, renderHook, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { CatalystSocket } from "../live/socket";
import { ApiError } from "../lib/api";
import { Host, jsonResponse, summary } from "../test/fixtures";
import { usePlugin, usePluginApi, usePlugins, usePluginSocket } from "./hooks";
import { usePluginStore } from "./store";

beforeEach(() => usePluginStore.getState().reset());
afterEach(() => vi.unstubAllGlobals());

const noImport = vi.fn().mockResolvedValue({ default: {} });

function wrapper(socket = new CatalystSocket(), plugins = [summary({ name: "a" }), summary({ name: "b", displayName: "B" })]) {
  return ({ children }: { children: ReactNode }) => (
    <Host plugins={plugins} importer={noImport} socket={socket}>
      {children}
    </Host>
  );
}

describe("usePlugins / usePlugin", () => {
  it("reads the plugins of the store", async () => {
    const { result } = renderHook(() => ({ all: usePlugins(), b: usePlugin("b"), none: usePlugin("zzz") }), {
      wrapper: wrapper(),
    });
    await waitFor(() => expect(result.current.all.map((p) => p.name)).toEqual(["a", "b"]));
    expect(result.current.b?.displayName).toBe("B");
    expect(result.current.none).toBeUndefined();
  });

  it("fail loudly outside the provider", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(() => renderHook(() => usePluginSocket("a"))).toThrow(/PluginProvider/);
  });
});

describe("usePluginApi", () => {
  it("is bound to /api/plugins/<name>, sends and returns JSON", async () => {
    const fetch = vi.fn().mockImplementation(async () => jsonResponse({ success: true, echo: { x: 1 } }, 201));
    vi.stubGlobal("fetch", fetch);
    const { result } = renderHook(() => usePluginApi("example-plugin"), { wrapper: wrapper() });
    const body = await result.current.post("/echo", { x: 1 });
    expect(body).toEqual({ success: true, echo: { x: 1 } });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe("/api/plugins/example-plugin/echo");
    expect(init.method).toBe("POST");
    expect(init.headers["Content-Type"]).toBe("application/json");
    expect(JSON.parse(init.body)).toEqual({ x: 1 });
    await result.current.get("hello", { query: { n: 2 } });
    expect(fetch.mock.calls[1][0]).toBe("/api/plugins/example-plugin/hello?n=2");
    expect(result.current.base).toBe("/api/plugins/example-plugin");
  });

  it("throws on success:false, e.g. a disabled plugin's 503", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(jsonResponse({ success: false, error: "Plugin is disabled" }, 503)));
    const { result } = renderHook(() => usePluginApi("p"), { wrapper: wrapper() });
    const error = await result.current.get("/hello").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, message: "Plugin is disabled" });
  });

  it("keeps the same helper across renders", () => {
    const { result, rerender } = renderHook(() => usePluginApi("p"), { wrapper: wrapper() });
    const first = result.current;
    rerender();
    expect(result.current).toBe(first);
  });
});

describe("usePluginSocket", () => {
  it("sends plugin:<name>:<type> and receives only its own plugin's messages", () => {
    const socket = new CatalystSocket();
    const send = vi.spyOn(socket, "send").mockReturnValue(true);
    const received: [string, unknown][] = [];
    const { result } = renderHook(() => usePluginSocket("example-plugin", (type, data) => received.push([type, data])), {
      wrapper: wrapper(socket),
    });
    result.current.send("ping", { id: 1 });
    expect(send).toHaveBeenCalledWith({ type: "plugin:example-plugin:ping", data: { id: 1 } });
    act(() => {
      socket.dispatch({ type: "plugin:example-plugin:pong", data: { original: { id: 1 } } });
      socket.dispatch({ type: "plugin:other:pong", data: 2 });
      socket.dispatch({ type: "plugins:updated", data: 3 });
    });
    expect(received).toEqual([["pong", { original: { id: 1 } }]]);
  });

  it("subscribes to one type and stops on unsubscribe and on unmount", () => {
    const socket = new CatalystSocket();
    const seen: string[] = [];
    const onMessage = vi.fn();
    const { result, unmount } = renderHook(() => usePluginSocket("p", onMessage), { wrapper: wrapper(socket) });
    const off = result.current.subscribe("pong", (type) => seen.push(type));
    act(() => socket.dispatch({ type: "plugin:p:pong" }));
    act(() => socket.dispatch({ type: "plugin:p:other" }));
    off();
    act(() => socket.dispatch({ type: "plugin:p:pong" }));
    expect(seen).toEqual(["pong"]);
    expect(onMessage).toHaveBeenCalledTimes(3);
    unmount();
    socket.dispatch({ type: "plugin:p:pong" });
    expect(onMessage).toHaveBeenCalledTimes(3);
  });

  it("tells whether the socket is connected", async () => {
    class FakeWebSocket {
      static instances: FakeWebSocket[] = [];
      readyState = 0;
      onopen: (() => void) | null = null;
      onclose: (() => void) | null = null;
      onmessage: ((e: { data: string }) => void) | null = null;
      onerror: (() => void) | null = null;
      constructor(public url: string) {
        FakeWebSocket.instances.push(this);
      }
      send() {}
      close() {}
    }
    const socket = new CatalystSocket({ url: "ws://test/ws", WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket });
    function Status() {
      const { connected } = usePluginSocket("p");
      return <p>{connected ? "connected" : "offline"}</p>;
    }
    render(<Status />, { wrapper: wrapper(socket) });
    expect(screen.getByText("offline")).toBeTruthy();
    act(() => socket.start());
    const ws = FakeWebSocket.instances[0];
    act(() => {
      ws.readyState = 1;
      ws.onopen?.();
    });
    expect(await screen.findByText("connected")).toBeTruthy();
    act(() => socket.stop());
  });
});
