import { render, screen } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { usePluginStore } from "../plugins/store";
import { admin, Host, summary, viewer } from "../test/fixtures";
import { PluginPagePage, PluginTabPage } from "./PluginTabPage";

beforeEach(() => usePluginStore.getState().reset());

const importer = vi.fn().mockResolvedValue({
  default: {
    tabs: [
      { id: "ops", label: "Operations", requiredPermissions: ["admin.read", "server.write"], component: () => <p>ops tab</p> },
      { id: "open", label: "Open", component: () => <p>open tab</p> },
    ],
    pages: [{ path: "report", title: "Report", requiredPermissions: ["admin.read"], component: () => <p>report page</p> }],
  },
});

describe("a plugin tab or page the user may not open", () => {
  it("names the missing permissions instead of saying the plugin does not provide it", async () => {
    render(
      <Host plugins={[summary({ name: "demo" })]} importer={importer} user={viewer}>
        <PluginTabPage plugin="demo" tabId="ops" />
      </Host>,
    );
    const reason = await screen.findByText(/You lack the permissions it requires/);
    expect(reason.textContent).toBe("You lack the permissions it requires: admin.read, server.write.");
    expect(screen.queryByText(/does not provide it/)).toBeNull();
  });

  it("does the same for a page", async () => {
    render(
      <Host plugins={[summary({ name: "demo" })]} importer={importer} user={viewer}>
        <PluginPagePage plugin="demo" path="/report/" />
      </Host>,
    );
    expect((await screen.findByText(/You lack the permission it requires/)).textContent).toBe(
      "You lack the permission it requires: admin.read.",
    );
  });

  it("still says a tab is not provided when the module has no such tab", async () => {
    render(
      <Host plugins={[summary({ name: "demo", displayName: "" })]} importer={importer} user={admin}>
        <PluginTabPage plugin="demo" tabId="gone" />
      </Host>,
    );
    expect((await screen.findByText(/does not provide it/)).textContent).toBe("demo does not provide it (any more).");
  });

  it("shows the tab to a user who has the permissions", async () => {
    render(
      <Host plugins={[summary({ name: "demo" })]} importer={importer} user={admin}>
        <PluginTabPage plugin="demo" tabId="ops" />
      </Host>,
    );
    expect(await screen.findByText("ops tab")).toBeTruthy();
  });
});
