import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { Host, summary } from "../../test/fixtures";
import { normalizeContributions } from "../contributions";
import { isSandboxed, pluginInfo, sandboxedNamespace } from "./importer";

describe("sandboxed modules", () => {
  it("sandboxes every plugin but an in-process one", () => {
    expect(isSandboxed(summary({ runtime: { runtime: "process" } }))).toBe(true);
    expect(isSandboxed(summary({ runtime: { runtime: "inprocess" } }))).toBe(false);
  });

  it("tells the frame nothing of the admin's details", () => {
    const info = pluginInfo(
      summary({ permissions: ["server.read"], grantedPermissions: ["server.read"], error: "x", runtime: { runtime: "process", pid: 42 } }),
    );
    expect(Object.keys(info).sort()).toEqual(
      ["author", "description", "displayName", "enabled", "frontendEntry", "hasBackend", "hasFrontend", "loadedAt", "name", "runtime", "status", "version"].sort(),
    );
    expect(info.runtime).toEqual({ runtime: "process" });
  });

  it("turns described contributions into components that render a sandboxed frame", () => {
    const info = pluginInfo(summary({ name: "boxed", displayName: "Boxed", runtime: { runtime: "process" } }));
    const namespace = sandboxedNamespace(info, "export default {}", {
      tabs: [{ id: "main", label: "Main", location: "admin", requiredPermissions: ["admin.read"], order: 2 }],
      pages: [{ path: "reports", title: "Reports", requiredPermissions: [] }],
      slots: { "dashboard.widgets": 2 },
      warnings: [],
    });
    const { contributions, warnings } = normalizeContributions(namespace);
    expect(warnings).toEqual([]);
    expect(contributions.tabs).toMatchObject([{ id: "main", label: "Main", requiredPermissions: ["admin.read"], order: 2 }]);
    expect(contributions.pages).toMatchObject([{ path: "reports", title: "Reports" }]);
    expect(contributions.slots["dashboard.widgets"]).toHaveLength(2);

    const Tab = contributions.tabs[0].component;
    render(
      <Host plugins={[]} importer={vi.fn()}>
        <Tab plugin="boxed" server={{ id: "s1" }} onClick={() => {}} />
      </Host>,
    );
    const frame = screen.getByTitle("Boxed: Main");
    expect(frame.tagName).toBe("IFRAME");
    expect(frame.getAttribute("sandbox")).toBe("allow-scripts");
    const doc = frame.getAttribute("srcdoc") ?? "";
    expect(doc).toContain(`<script src="${window.location.origin}/sandbox/runtime.js?v=`);
    expect(doc).toContain(`href="${window.location.origin}/sandbox/runtime.css?v=`);
    expect(doc).not.toContain("export default");
  });
});
