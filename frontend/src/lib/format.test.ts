import { describe, expect, it } from "vitest";
import { errorHeadline, pluginTitle } from "./format";

describe("pluginTitle", () => {
  it("falls back to the folder name when the display name is blank", () => {
    expect(pluginTitle({ name: "my-plugin", displayName: "My Plugin" })).toBe("My Plugin");
    expect(pluginTitle({ name: "my-plugin", displayName: "" })).toBe("my-plugin");
    expect(pluginTitle({ name: "my-plugin", displayName: "   " })).toBe("my-plugin");
    expect(pluginTitle({ name: "my-plugin" })).toBe("my-plugin");
  });
});

describe("errorHeadline", () => {
  const one = [{ path: "displayName", message: "must not be blank" }];
  const two = [...one, { path: "version", message: "required key is missing" }];

  it("does not repeat a single manifest problem over its list", () => {
    expect(errorHeadline("displayName: must not be blank", one)).toBe("plugin.json has a problem:");
  });

  it("summarises several problems instead of repeating the first", () => {
    expect(errorHeadline("displayName: must not be blank (and 1 more)", two)).toBe("plugin.json has 2 problems:");
  });

  it("keeps an error that is not the manifest's", () => {
    expect(errorHeadline("on_load failed: RuntimeError: boom", [])).toBe("on_load failed: RuntimeError: boom");
    expect(errorHeadline("dependency 'x' is missing", one)).toBe("dependency 'x' is missing");
    expect(errorHeadline(null, one)).toBeNull();
  });

  it("handles a problem of the whole file (no path)", () => {
    expect(errorHeadline("plugin.json not found", [{ path: "", message: "plugin.json not found" }])).toBe(
      "plugin.json has a problem:",
    );
  });
});
