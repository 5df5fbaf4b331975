import { QueryClientProvider } from "@tanstack/react-query";
import { act, renderHook } from "@testing-library/react";
import type { ReactNode } from "react";
import { describe, expect, it } from "vitest";
import { keys } from "../lib/queries";
import type { PluginDetail, PluginSummary, ServerList } from "../lib/types";
import { newQueryClient, summary } from "../test/fixtures";
import { CatalystSocket } from "./socket";
import { useLiveUpdates } from "./useLiveUpdates";

function setup() {
  const client = newQueryClient();
  const socket = new CatalystSocket();
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  renderHook(() => useLiveUpdates(socket), { wrapper });
  return { client, socket };
}

describe("useLiveUpdates", () => {
  it("applies plugins:updated to the list and the detail", () => {
    const { client, socket } = setup();
    client.setQueryData<PluginSummary[]>(keys.pluginList("admin"), [summary({ name: "a" }), summary({ name: "b" })]);
    client.setQueryData(keys.plugin("a"), { ...summary({ name: "a" }), config: { x: 1 } });
    const disabled = summary({ name: "a", enabled: false, status: "disabled" });
    act(() => socket.dispatch({ type: "plugins:updated", data: { name: "a", reason: "state", plugin: disabled } }));
    expect(client.getQueryData<PluginSummary[]>(keys.pluginList("admin"))?.map((p) => p.status)).toEqual(["disabled", "enabled"]);
    const detail = client.getQueryData<PluginDetail>(keys.plugin("a"));
    expect(detail?.status).toBe("disabled");
    expect(detail?.config).toEqual({ x: 1 });
  });

  it("adds a new plugin and removes a deleted one", () => {
    const { client, socket } = setup();
    client.setQueryData<PluginSummary[]>(keys.pluginList("admin"), [summary({ name: "b" })]);
    act(() => socket.dispatch({ type: "plugins:updated", data: { name: "a", reason: "rescan", plugin: summary({ name: "a" }) } }));
    expect(client.getQueryData<PluginSummary[]>(keys.pluginList("admin"))?.map((p) => p.name)).toEqual(["a", "b"]);
    act(() => socket.dispatch({ type: "plugins:updated", data: { name: "b", reason: "rescan", plugin: null } }));
    expect(client.getQueryData<PluginSummary[]>(keys.pluginList("admin"))?.map((p) => p.name)).toEqual(["a"]);
  });

  it("applies servers:updated to the server list", () => {
    const { client, socket } = setup();
    const server = { id: 1, name: "s", game: "minecraft", node: "local", status: "stopped", ownerId: 1, createdAt: "", updatedAt: "" };
    client.setQueryData<ServerList>(keys.servers, { items: [server], total: 1 });
    act(() => socket.dispatch({ type: "servers:updated", data: { event: "server:started", server: { ...server, status: "running" } } }));
    expect(client.getQueryData<ServerList>(keys.servers)?.items[0].status).toBe("running");
    act(() => socket.dispatch({ type: "servers:updated", data: { event: "server:created", server: { ...server, id: 2 } } }));
    expect(client.getQueryData<ServerList>(keys.servers)?.total).toBe(2);
    act(() => socket.dispatch({ type: "servers:updated", data: { event: "server:deleted", server } }));
    expect(client.getQueryData<ServerList>(keys.servers)?.items.map((s) => s.id)).toEqual([2]);
  });
});
