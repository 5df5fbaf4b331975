import { act, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { QueryClientProvider } from "@tanstack/react-query";
import { CatalystSocket } from "../live/socket";
import { admin, Host, jsonResponse, newQueryClient, summary, viewer } from "../test/fixtures";
import { PluginProvider } from "./PluginProvider";
import type { PluginSummary, User } from "../lib/types";
import { usePluginSlot, usePluginTabs } from "./hooks";
import { PluginSlot, PluginView } from "./PluginView";
import { usePluginStore } from "./store";
import type { TabLocation } from "./types";

beforeEach(() => usePluginStore.getState().reset());

/** Renders every tab of a location, each inside the host's isolation (as the real pages do). */
function Tabs({ location }: { location: TabLocation }) {
  const tabs = usePluginTabs(location);
  return (
    <ul aria-label={`${location} tabs`}>
      {tabs.map((tab) => (
        <li key={tab.key} data-testid={`tab-${tab.key}`}>
          <span>{tab.label}</span>
          <PluginView plugin={tab.plugin} displayName={tab.pluginDisplayName} generation={tab.generation} component={tab.component} />
        </li>
      ))}
    </ul>
  );
}

function module(contributions: unknown) {
  return { default: contributions };
}

function setup(plugins: PluginSummary[], importer: (url: string) => Promise<unknown>, user: User | null = admin) {
  const view = render(
    <Host plugins={plugins} importer={importer} user={user}>
      <Tabs location="admin" />
      <Tabs location="server" />
      <PluginSlot name="dashboard.widgets" />
    </Host>,
  );
  const rerender = (next: PluginSummary[], nextUser: User | null = user) =>
    view.rerender(
      <Host plugins={next} importer={importer} user={nextUser}>
        <Tabs location="admin" />
        <Tabs location="server" />
        <PluginSlot name="dashboard.widgets" />
      </Host>,
    );
  return { ...view, rerender };
}

describe("PluginProvider: mounting contributions", () => {
  it("mounts a plugin's admin tab, server tab and slot widget", async () => {
    const importer = vi.fn().mockResolvedValue(
      module({
        tabs: [
          { id: "main", label: "Main", component: () => <p>main content</p> },
          { id: "console", label: "Console", location: "server", component: () => <p>server content</p> },
        ],
        slots: { "dashboard.widgets": () => <p>widget content</p> },
      }),
    );
    setup([summary({ name: "demo" })], importer);
    expect(await screen.findByText("main content")).toBeTruthy();
    expect(screen.getByText("server content")).toBeTruthy();
    expect(screen.getByText("widget content")).toBeTruthy();
    expect(screen.getByTestId("tab-demo/main").textContent).toContain("Main");
  });

  it("passes the plugin's name to its components", async () => {
    const Named = ({ plugin }: { plugin: string }) => <p>I am {plugin}</p>;
    setup([summary({ name: "demo" })], vi.fn().mockResolvedValue(module({ tabs: [{ id: "t", label: "T", component: Named }] })));
    expect(await screen.findByText("I am demo")).toBeTruthy();
  });

  it("removes a plugin's UI when it is disabled, and brings it back when enabled", async () => {
    const importer = vi.fn().mockResolvedValue(module({ tabs: [{ id: "main", label: "Main", component: () => <p>main content</p> }] }));
    const { rerender } = setup([summary({ name: "demo" })], importer);
    await screen.findByText("main content");
    rerender([summary({ name: "demo", enabled: false, status: "disabled" })]);
    await waitFor(() => expect(screen.queryByText("main content")).toBeNull());
    rerender([summary({ name: "demo" })]);
    expect(await screen.findByText("main content")).toBeTruthy();
  });

  it("re-imports a reloaded plugin and shows its new UI", async () => {
    const importer = vi
      .fn()
      .mockResolvedValueOnce(module({ tabs: [{ id: "main", label: "Main", component: () => <p>version one</p> }] }))
      .mockResolvedValueOnce(module({ tabs: [{ id: "main", label: "Main", component: () => <p>version two</p> }] }));
    const { rerender } = setup([summary({ name: "demo", loadedAt: "t1" })], importer);
    await screen.findByText("version one");
    rerender([summary({ name: "demo", loadedAt: "t2" })]);
    expect(await screen.findByText("version two")).toBeTruthy();
    expect(screen.queryByText("version one")).toBeNull();
    expect(importer).toHaveBeenLastCalledWith("/api/plugins/demo/frontend/index.js?v=t2");
  });

  it("shows no UI for plugins without a frontend or not enabled", async () => {
    const importer = vi.fn();
    setup([summary({ name: "a", hasFrontend: false }), summary({ name: "b", status: "loaded", enabled: false })], importer);
    await act(async () => {});
    expect(importer).not.toHaveBeenCalled();
    expect(screen.getByLabelText("admin tabs").children).toHaveLength(0);
  });
});

describe("PluginProvider: permissions of tabs", () => {
  const tabs = [
    { id: "open", label: "Open", component: () => <p>open</p> },
    { id: "servers", label: "Servers only", requiredPermissions: ["server.read"], component: () => <p>servers</p> },
    { id: "admin", label: "Admin only", requiredPermissions: ["admin.write"], component: () => <p>admin</p> },
    { id: "both", label: "Both", requiredPermissions: ["server.read", "server.write"], component: () => <p>both</p> },
  ];

  function labels() {
    return Array.from(screen.getByLabelText("admin tabs").querySelectorAll("li > span")).map((s) => s.textContent);
  }

  it("shows everything to a wildcard admin", async () => {
    setup([summary()], vi.fn().mockResolvedValue(module({ tabs })), admin);
    await screen.findByText("open");
    expect(labels()).toEqual(["Admin only", "Both", "Open", "Servers only"]);
  });

  it("hides the tabs whose permissions the user lacks", async () => {
    setup([summary()], vi.fn().mockResolvedValue(module({ tabs })), viewer);
    await screen.findByText("open");
    expect(labels()).toEqual(["Open", "Servers only"]);
  });

  it("honours prefix wildcards", async () => {
    const operator: User = { ...viewer, permissions: ["server.*"] };
    setup([summary()], vi.fn().mockResolvedValue(module({ tabs })), operator);
    await screen.findByText("open");
    expect(labels()).toEqual(["Both", "Open", "Servers only"]);
  });

  it("orders tabs by their order, then label", async () => {
    const ordered = [
      { id: "b", label: "B", order: 2, component: () => null },
      { id: "a", label: "A", order: 2, component: () => null },
      { id: "z", label: "Z", order: 1, component: () => null },
    ];
    setup([summary()], vi.fn().mockResolvedValue(module({ tabs: ordered })));
    await waitFor(() => expect(labels()).toEqual(["Z", "A", "B"]));
  });
});

describe("usePluginSlot", () => {
  it("collects a slot from every contributing plugin", async () => {
    const importer = vi.fn(async (url: string) =>
      module({ slots: { "server.sidebar": () => <p>{url.includes("/one/") ? "from one" : "from two"}</p> } }),
    );
    function Sidebar() {
      const entries = usePluginSlot("server.sidebar");
      return <p>{entries.map((e) => e.plugin).join(",")}</p>;
    }
    render(
      <Host plugins={[summary({ name: "two" }), summary({ name: "one" })]} importer={importer}>
        <Sidebar />
        <PluginSlot name="server.sidebar" />
      </Host>,
    );
    expect(await screen.findByText("one,two")).toBeTruthy();
    expect(screen.getByText("from one")).toBeTruthy();
    expect(screen.getByText("from two")).toBeTruthy();
  });
});

describe("PluginProvider: where the plugin list comes from", () => {
  async function listUrl(user: User): Promise<string> {
    const fetch = vi.fn().mockResolvedValue(jsonResponse({ success: true, data: [] }));
    vi.stubGlobal("fetch", fetch);
    const socket = new CatalystSocket();
    render(
      <QueryClientProvider client={newQueryClient()}>
        <PluginProvider socket={socket} user={user} importer={vi.fn()}>
          <span>host</span>
        </PluginProvider>
      </QueryClientProvider>,
    );
    await waitFor(() => expect(fetch).toHaveBeenCalled());
    vi.unstubAllGlobals();
    return String(fetch.mock.calls[0][0]);
  }

  it("asks the admin list for admins", async () => {
    expect(await listUrl(admin)).toMatch(/\/api\/plugins$/);
  });

  it("asks the UI list for everyone else, so their plugin tabs and widgets load too", async () => {
    expect(await listUrl(viewer)).toMatch(/\/api\/ui\/plugins$/);
  });
});
