// Pushes change the query cache, and what shows the cached data re-renders: there is no other copy.
import { QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LogsCard } from "../components/LogsCard";
import { keys } from "../lib/queries";
import type { LogRecord, PluginSummary } from "../lib/types";
import { PluginsPage } from "../pages/PluginsPage";
import { usePlugins } from "../plugins/hooks";
import { Host, jsonResponse, newQueryClient, summary, viewer } from "../test/fixtures";
import { SocketProvider } from "./SocketContext";
import { CatalystSocket } from "./socket";
import { useLiveUpdates } from "./useLiveUpdates";

function Live({ socket, children }: { socket: CatalystSocket; children: ReactNode }) {
  useLiveUpdates(socket);
  return <>{children}</>;
}

function record(seq: number, message: string): LogRecord {
  return { seq, time: 1_700_000_000 + seq, level: "info", message, fields: {} };
}

beforeEach(() => window.history.replaceState(null, "", "/plugins"));
afterEach(() => vi.unstubAllGlobals());

describe("a push re-renders what shows the cached data", () => {
  it("plugins:updated changes the plugins page", async () => {
    // The folder is gone when the rescan's refetch asks.
    let listed = [summary({ name: "demo" })];
    vi.stubGlobal("fetch", vi.fn(async () => jsonResponse({ success: true, data: listed })));
    const client = newQueryClient();
    const socket = new CatalystSocket();
    render(
      <QueryClientProvider client={client}>
        <SocketProvider socket={socket}>
          <Live socket={socket}>
            <PluginsPage />
          </Live>
        </SocketProvider>
      </QueryClientProvider>,
    );
    const row = await screen.findByTestId("plugin-row");
    expect(within(row).queryByText("disabled")).toBeNull();
    act(() =>
      socket.dispatch({
        type: "plugins:updated",
        data: { name: "demo", reason: "state", plugin: summary({ name: "demo", enabled: false, status: "disabled" }) },
      }),
    );
    await waitFor(() => expect(within(screen.getByTestId("plugin-row")).getByText("disabled")).toBeTruthy());
    listed = [];
    act(() => socket.dispatch({ type: "plugins:updated", data: { name: "demo", reason: "rescan", plugin: null } }));
    await waitFor(() => expect(screen.queryByTestId("plugin-row")).toBeNull());
  });

  it("plugins:updated reaches a non-admin's list, which the plugin SDK's usePlugins reads", async () => {
    const socket = new CatalystSocket();
    const client = newQueryClient();
    function Names() {
      return <p data-testid="names">{usePlugins().map((p) => `${p.name}:${p.status}`).join(",")}</p>;
    }
    render(
      <Host plugins={[summary({ name: "demo" })]} importer={vi.fn(async () => ({ default: {} }))} user={viewer} socket={socket} client={client}>
        <Live socket={socket}>
          <Names />
        </Live>
      </Host>,
    );
    expect(screen.getByTestId("names").textContent).toBe("demo:enabled");
    act(() =>
      socket.dispatch({ type: "plugins:updated", data: { name: "other", reason: "state", plugin: summary({ name: "other" }) } }),
    );
    await waitFor(() => expect(screen.getByTestId("names").textContent).toBe("demo:enabled,other:enabled"));
    expect(client.getQueryData<PluginSummary[]>(keys.pluginList("ui"))?.map((p) => p.name)).toEqual(["demo", "other"]);
  });

  it("plugin:log adds a record to the logs shown, merged with the first page", async () => {
    let answer: (response: Response) => void = () => {};
    const fetch = vi.fn((_url: string) => new Promise<Response>((resolve) => (answer = resolve)));
    vi.stubGlobal("fetch", fetch);
    const client = newQueryClient();
    const socket = new CatalystSocket();
    render(
      <QueryClientProvider client={client}>
        <SocketProvider socket={socket}>
          <Live socket={socket}>
            <LogsCard name="demo" />
          </Live>
        </SocketProvider>
      </QueryClientProvider>,
    );
    await waitFor(() => expect(fetch).toHaveBeenCalled());
    expect(String(fetch.mock.calls[0][0])).toBe("/api/plugins/demo/logs?limit=200");
    // Pushed while the first page is on its way: kept when the page arrives.
    act(() => socket.dispatch({ type: "plugin:log", data: { name: "demo", record: record(3, "pushed early") } }));
    act(() => answer(jsonResponse({ success: true, data: [record(1, "first"), record(2, "second")] })));
    const log = await screen.findByRole("log");
    await waitFor(() => expect(within(log).getByText("second")).toBeTruthy());
    expect(within(log).getByText("pushed early")).toBeTruthy();
    act(() => socket.dispatch({ type: "plugin:log", data: { name: "demo", record: record(4, "pushed later") } }));
    act(() => socket.dispatch({ type: "plugin:log", data: { name: "other", record: record(5, "someone else's") } }));
    await waitFor(() =>
      expect([...log.querySelectorAll(".log__message")].map((e) => e.textContent)).toEqual([
        "first",
        "second",
        "pushed early",
        "pushed later",
      ]),
    );
    expect(client.getQueryData(keys.pluginLogs("other"))).toBeUndefined();
  });
});
