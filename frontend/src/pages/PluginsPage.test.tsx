import { describe, expect, it } from "vitest";
import { summary } from "../test/fixtures";
import { filterPlugins } from "./PluginsPage";

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
