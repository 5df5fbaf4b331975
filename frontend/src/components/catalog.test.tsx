// The permission descriptions and the plugin states come from GET /api/catalog, not from the UI.
import { QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Catalog } from "../lib/types";
import { PluginsPage } from "../pages/PluginsPage";
import { jsonResponse, newQueryClient, summary } from "../test/fixtures";
import { PluginControls } from "./PluginControls";

const served: Catalog = {
  permissions: [{ name: "server.read", description: "Look at the servers (from the API)" }],
  pluginStates: ["discovered", "enabled", "error"],
};

function stubApi(plugins = [summary({ name: "demo" })]) {
  const fetch = vi.fn(async (url: string) => {
    if (url === "/api/catalog") return jsonResponse({ success: true, data: served });
    if (url === "/api/plugins") return jsonResponse({ success: true, data: plugins });
    return jsonResponse({ success: false, error: "Not found" }, 404);
  });
  vi.stubGlobal("fetch", fetch);
  return fetch;
}

beforeEach(() => window.history.replaceState(null, "", "/plugins"));
afterEach(() => vi.unstubAllGlobals());

describe("the catalog from the API", () => {
  it("describes each permission in the consent dialog, and says when the host defines one it does not describe", async () => {
    const fetch = stubApi();
    const plugin = summary({ name: "demo", enabled: false, status: "disabled", permissions: ["server.read", "custom.thing"] });
    render(
      <QueryClientProvider client={newQueryClient({ withCatalog: false })}>
        <PluginControls plugin={plugin} />
      </QueryClientProvider>,
    );
    fireEvent.click(screen.getByRole("switch"));
    const list = await screen.findByTestId("consent-permissions");
    await waitFor(() => expect(list.textContent).toContain("Look at the servers (from the API)"));
    const items = within(list).getAllByRole("listitem").map((li) => li.textContent);
    expect(items).toEqual(["server.readLook at the servers (from the API)", "custom.thingDefined by the host"]);
    expect(fetch.mock.calls.filter(([url]) => url === "/api/catalog")).toHaveLength(1);
  });

  it("lists the plugin states it serves in the status filter, in its order", async () => {
    stubApi([summary({ name: "a" }), summary({ name: "b", status: "error", enabled: false })]);
    render(
      <QueryClientProvider client={newQueryClient({ withCatalog: false })}>
        <PluginsPage />
      </QueryClientProvider>,
    );
    const select = screen.getByLabelText<HTMLSelectElement>("Filter by status");
    await waitFor(() => expect(select.options.length).toBe(4));
    expect([...select.options].map((o) => o.textContent)).toEqual(["All statuses", "Discovered", "Enabled (1)", "Error (1)"]);
  });
});
