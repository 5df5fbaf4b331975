import { beforeEach, describe, expect, it, vi } from "vitest";
import type { PluginSummary } from "../lib/types";
import { keys } from "../lib/queries";
import { jsonResponse, newQueryClient, summary } from "../test/fixtures";
import { detailEntryResolver, moduleUrl, normalizeContributions, syncPluginModules, wantsFrontend } from "./loader";
import { usePluginStore } from "./store";

const Tab = () => null;
const Widget = () => null;

function namespace(contributions: unknown) {
  return { default: contributions };
}

beforeEach(() => usePluginStore.getState().reset());

describe("moduleUrl", () => {
  it("serves the entry's file name from the plugin's frontend route, keyed by loadedAt", () => {
    expect(moduleUrl("example-plugin", "frontend/index.js", "2024-01-01T00:00:00+00:00")).toBe(
      "/api/plugins/example-plugin/frontend/index.js?v=2024-01-01T00%3A00%3A00%2B00%3A00",
    );
  });
});

describe("wantsFrontend", () => {
  it("only for enabled plugins with a frontend", () => {
    expect(wantsFrontend(summary())).toBe(true);
    expect(wantsFrontend(summary({ enabled: false, status: "disabled" }))).toBe(false);
    expect(wantsFrontend(summary({ hasFrontend: false }))).toBe(false);
    expect(wantsFrontend(summary({ status: "error" }))).toBe(false);
  });
});

describe("normalizeContributions", () => {
  it("keeps well-formed tabs, pages and slots", () => {
    const { contributions, warnings } = normalizeContributions(
      namespace({
        tabs: [{ id: "t", label: "T", location: "server", requiredPermissions: ["server.read"], component: Tab }],
        pages: [{ path: "/reports/", title: "Reports", component: Tab }],
        slots: { "dashboard.widgets": Widget, "server.sidebar": [Widget, Tab] },
      }),
    );
    expect(warnings).toEqual([]);
    expect(contributions.tabs).toMatchObject([{ id: "t", label: "T", location: "server", requiredPermissions: ["server.read"] }]);
    expect(contributions.pages).toMatchObject([{ path: "reports", title: "Reports" }]);
    expect(contributions.slots["dashboard.widgets"]).toEqual([Widget]);
    expect(contributions.slots["server.sidebar"]).toEqual([Widget, Tab]);
  });

  it("defaults a tab's location to admin", () => {
    const { contributions } = normalizeContributions(namespace({ tabs: [{ id: "t", label: "T", component: Tab }] }));
    expect(contributions.tabs[0].location).toBe("admin");
  });

  it("skips malformed entries with a warning naming them", () => {
    const { contributions, warnings } = normalizeContributions(
      namespace({
        tabs: [
          { label: "no id", component: Tab },
          { id: "x", label: "X", location: "sidebar", component: Tab },
          { id: "y", label: "Y", component: "not a component" },
          { id: "z", label: "Z", component: Tab },
          { id: "z", label: "Z again", component: Tab },
        ],
        slots: { "dashboard.widgets": 42 },
      }),
    );
    expect(contributions.tabs.map((t) => t.id)).toEqual(["z"]);
    expect(contributions.slots).toEqual({});
    expect(warnings).toEqual([
      "tabs[0]: needs a string id",
      'tabs[1]: location must be "admin" or "server"',
      "tabs[2]: component is not a React component",
      'tabs[4]: duplicate id "z"',
      "slots.dashboard.widgets: not a React component",
    ]);
  });

  it("refuses a module without a default export object", () => {
    expect(() => normalizeContributions({})).toThrow(/default-export/);
    expect(() => normalizeContributions({ default: () => null })).toThrow(/default-export/);
  });
});

describe("syncPluginModules", () => {
  let plugins: PluginSummary[] = [];
  const resolveEntry = detailEntryResolver(newQueryClient());
  const contributions = { tabs: [{ id: "main", label: "Main", component: Tab }] };

  it("imports the modules of enabled plugins with a frontend, and only those", async () => {
    const importer = vi.fn().mockResolvedValue(namespace(contributions));
    plugins = [
      summary({ name: "a" }),
      summary({ name: "b", enabled: false, status: "disabled" }),
      summary({ name: "c", hasFrontend: false, frontendEntry: null }),
    ];
    await syncPluginModules(plugins, { importer, resolveEntry });
    expect(importer).toHaveBeenCalledTimes(1);
    expect(importer).toHaveBeenCalledWith(expect.stringMatching(/^\/api\/plugins\/a\/frontend\/index\.js\?v=/));
    const modules = usePluginStore.getState().modules;
    expect(Object.keys(modules)).toEqual(["a"]);
    expect(modules.a.status).toBe("ready");
    expect(modules.a.contributions.tabs[0].id).toBe("main");
  });

  it("imports only in-process plugins into the page; every other one goes to the sandbox", async () => {
    const importer = vi.fn().mockResolvedValue(namespace(contributions));
    const sandboxImporter = vi.fn().mockResolvedValue(namespace(contributions));
    plugins = [
      summary({ name: "trusted", runtime: { runtime: "inprocess" } }),
      summary({ name: "boxed", runtime: { runtime: "process" } }),
    ];
    await syncPluginModules(plugins, { importer, sandboxImporter, resolveEntry });
    expect(importer.mock.calls.map((c) => c[0])).toEqual([expect.stringMatching(/^\/api\/plugins\/trusted\//)]);
    expect(sandboxImporter).toHaveBeenCalledTimes(1);
    expect(sandboxImporter).toHaveBeenCalledWith(plugins[1], expect.stringMatching(/^\/api\/plugins\/boxed\/frontend\/index\.js/));
    expect(usePluginStore.getState().modules.boxed.status).toBe("ready");
  });

  it("drops a disabled plugin's module, and does not import again when nothing changed", async () => {
    const importer = vi.fn().mockResolvedValue(namespace(contributions));
    plugins = [summary({ name: "a" })];
    await syncPluginModules(plugins, { importer, resolveEntry });
    await syncPluginModules(plugins, { importer, resolveEntry });
    expect(importer).toHaveBeenCalledTimes(1);
    plugins = [summary({ name: "a", enabled: false, status: "disabled" })];
    await syncPluginModules(plugins, { importer, resolveEntry });
    expect(usePluginStore.getState().modules).toEqual({});
  });

  it("imports again, from a new URL, after a reload (new loadedAt)", async () => {
    const NewTab = () => null;
    const importer = vi
      .fn()
      .mockResolvedValueOnce(namespace(contributions))
      .mockResolvedValueOnce(namespace({ tabs: [{ id: "main", label: "Main v2", component: NewTab }] }));
    plugins = [summary({ name: "a", loadedAt: "t1" })];
    await syncPluginModules(plugins, { importer, resolveEntry });
    const first = usePluginStore.getState().modules.a;
    plugins = [summary({ name: "a", loadedAt: "t2" })];
    await syncPluginModules(plugins, { importer, resolveEntry });
    const second = usePluginStore.getState().modules.a;
    expect(importer.mock.calls.map((c) => c[0])).toEqual([
      "/api/plugins/a/frontend/index.js?v=t1",
      "/api/plugins/a/frontend/index.js?v=t2",
    ]);
    expect(second.contributions.tabs[0]).toMatchObject({ label: "Main v2", component: NewTab });
    expect(second.generation).toBe(first.generation + 1);
  });

  it("records a module that fails to import as an error, without contributions", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const importer = vi.fn().mockRejectedValue(new SyntaxError("Unexpected token"));
    plugins = [summary({ name: "a" })];
    await syncPluginModules(plugins, { importer, resolveEntry });
    expect(usePluginStore.getState().modules.a).toMatchObject({
      status: "error",
      error: "Unexpected token",
      contributions: { tabs: [], pages: [], slots: {} },
    });
  });

  it("ignores an import that finishes after its plugin was disabled", async () => {
    let resolve: (value: unknown) => void = () => {};
    const importer = vi.fn().mockReturnValue(new Promise((r) => (resolve = r)));
    plugins = [summary({ name: "a" })];
    const pending = syncPluginModules(plugins, { importer, resolveEntry });
    plugins = [summary({ name: "a", enabled: false, status: "disabled" })];
    await syncPluginModules(plugins, { importer, resolveEntry });
    resolve(namespace(contributions));
    await pending;
    expect(usePluginStore.getState().modules).toEqual({});
  });

  it("reads the entry from the detail query when the list does not carry it", async () => {
    const importer = vi.fn().mockResolvedValue(namespace(contributions));
    const fetch = vi.fn().mockResolvedValue(jsonResponse({ success: true, data: { frontendEntry: "ui/main.js" } }));
    vi.stubGlobal("fetch", fetch);
    const client = newQueryClient();
    plugins = [summary({ name: "a", frontendEntry: undefined })];
    await syncPluginModules(plugins, { importer, resolveEntry: detailEntryResolver(client) });
    vi.unstubAllGlobals();
    expect(fetch.mock.calls[0][0]).toBe("/api/plugins/a");
    expect(importer).toHaveBeenCalledWith(expect.stringContaining("/api/plugins/a/frontend/main.js?v="));
    expect(client.getQueryData(keys.plugin("a"))).toEqual({ frontendEntry: "ui/main.js" });
  });
});
