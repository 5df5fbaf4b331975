import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { usePluginStore } from "../plugins/store";
import { jsonResponse, newQueryClient, summary } from "../test/fixtures";
import { filterPlugins, PluginsPage } from "./PluginsPage";

describe("filterPlugins", () => {
  const plugins = [
    summary({ name: "example-plugin", displayName: "Example Plugin", author: "Catalyst Team" }),
    summary({ name: "broken", displayName: "Broken", status: "error", description: "fails to import" }),
    summary({ name: "backup", displayName: "Backups", status: "disabled", enabled: false }),
  ];
  const names = (list: typeof plugins) => list.map((p) => p.name);

  it("searches names, descriptions and authors, every word", () => {
    expect(names(filterPlugins(plugins, "catalyst team", ""))).toEqual(["example-plugin"]);
    expect(names(filterPlugins(plugins, "IMPORT", ""))).toEqual(["broken"]);
    expect(names(filterPlugins(plugins, "", ""))).toEqual(["example-plugin", "broken", "backup"]);
  });

  it("filters by status", () => {
    expect(names(filterPlugins(plugins, "", "error"))).toEqual(["broken"]);
    expect(names(filterPlugins(plugins, "b", "disabled"))).toEqual(["backup"]);
  });
});

describe("PluginsPage cards", () => {
  beforeEach(() => {
    usePluginStore.getState().reset();
    window.history.replaceState(null, "", "/plugins");
  });
  afterEach(() => vi.unstubAllGlobals());

  async function cardOf(plugin: ReturnType<typeof summary>) {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => jsonResponse({ success: true, data: [plugin] })),
    );
    render(
      <QueryClientProvider client={newQueryClient()}>
        <PluginsPage />
      </QueryClientProvider>,
    );
    return within(await screen.findByTestId("plugin-row"));
  }

  it("titles a plugin with a blank displayName by its folder name", async () => {
    const card = await cardOf(summary({ name: "nameless", displayName: "" }));
    expect(card.getByRole("link", { name: "nameless" })).toBeTruthy();
  });

  it("shows a single manifest problem once, and the permissions the invalid manifest requests", async () => {
    const message = "must not be blank";
    const card = await cardOf(
      summary({
        name: "broken",
        status: "error",
        enabled: false,
        error: `displayName: ${message}`,
        errors: [{ path: "displayName", message }],
        permissions: ["server.read", "http.public"],
      }),
    );
    const row = card.getByText("displayName").closest("article") as HTMLElement;
    expect(row.textContent?.split(message).length).toBe(2); // exactly once
    expect(card.getByTestId("plugin-error-message").textContent).toContain("plugin.json has a problem:");
    expect(card.queryByText("No permissions requested")).toBeNull();
    expect(card.getByText(/http\.public/)).toBeTruthy();
  });
});
