import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { PluginDetail, PluginInstance } from "../../lib/types";
import { summary } from "../../test/fixtures";
import { InstancesCard, versionsText } from "./InstancesCard";

function instance(id: string, codeHash: string | null, extra: Partial<PluginInstance> = {}): PluginInstance {
  return {
    id,
    host: `host-${id}`,
    pid: 100,
    codeHash,
    state: "enabled",
    loadedAt: "2026-01-01T00:00:00+00:00",
    seenAt: new Date().toISOString(),
    self: false,
    ...extra,
  };
}

function detail(instances: PluginInstance[], codeMismatch: boolean): PluginDetail {
  return {
    ...summary(),
    catalystVersion: ">=1.0.0",
    config: {},
    configSchema: {},
    routes: [],
    middleware: 0,
    wsHandlers: [],
    tasks: [],
    listeners: [],
    dependencies: {},
    dependents: [],
    events: {},
    errorDetail: null,
    counts: {},
    stalls: [],
    codeHash: instances[0]?.codeHash ?? null,
    codeMismatch,
    instances,
  };
}

describe("InstancesCard", () => {
  it("lists each instance, this one first, with its state and short code version", () => {
    const mine = instance("a", "0123456789abcdef", { self: true, pid: 4242, host: "web-1" });
    const other = instance("b", "0123456789abcdef", { state: "loaded" });
    render(<InstancesCard plugin={detail([mine, other], false)} />);
    const card = screen.getByTestId("plugin-instances");
    expect(card.textContent).toContain("2 instances");
    expect(screen.queryByTestId("instances-mismatch")).toBeNull();
    const rows = within(screen.getByTestId("instances-table")).getAllByRole("row").slice(1);
    expect(rows.map((r) => [r.dataset.instance, r.dataset.self])).toEqual([
      ["a", "true"],
      ["b", "false"],
    ]);
    expect(rows[0].textContent).toContain("this one");
    expect(rows[0].textContent).toContain("web-1");
    expect(rows[0].textContent).toContain("4242");
    expect(rows[1].textContent).not.toContain("this one");
    expect(within(rows[1]).getByText("loaded").dataset.status).toBe("loaded");
    const hashes = screen.getAllByTestId("instance-hash");
    expect(hashes.map((h) => h.textContent)).toEqual(["01234567", "01234567"]);
    expect(hashes[0].title).toContain("0123456789abcdef");
  });

  it("warns when instances run different code, naming which runs which", () => {
    const instances = [
      instance("a", "aaaaaaaa11112222", { self: true }),
      instance("b", "bbbbbbbb33334444"),
      instance("c", "aaaaaaaa11112222"),
    ];
    render(<InstancesCard plugin={detail(instances, true)} />);
    const warning = screen.getByTestId("instances-mismatch");
    expect(warning.getAttribute("role")).toBe("alert");
    expect(warning.textContent).toContain("Instances run different code of this plugin: aaaaaaaa on a, c; bbbbbbbb on b");
  });

  it("shows no warning for a single instance, and a dash when nothing is loaded", () => {
    render(<InstancesCard plugin={detail([instance("solo", null, { self: true, state: "unloaded" })], false)} />);
    expect(screen.getByTestId("plugin-instances").textContent).toContain("1 instance");
    expect(screen.queryByTestId("instances-mismatch")).toBeNull();
    expect(screen.getByTestId("instance-hash").textContent).toBe("—");
  });

  it("renders nothing when the answer has no instances (an older host)", () => {
    const { container } = render(<InstancesCard plugin={detail([], false)} />);
    expect(container.textContent).toBe("");
  });

  it("leaves instances without a loaded version out of the versions", () => {
    expect(versionsText([instance("a", "1111111122"), instance("b", null), instance("c", "2222222233")])).toBe(
      "11111111 on a; 22222222 on c",
    );
  });
});
