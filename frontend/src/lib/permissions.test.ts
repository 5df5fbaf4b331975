import { describe, expect, it } from "vitest";
import { grants, hasAll, hasPermission } from "./permissions";

describe("permissions", () => {
  it.each([
    ["*", "server.read", true],
    ["*", "anything.at.all", true],
    ["server.*", "server.read", true],
    ["server.*", "server.console.read", true],
    ["server.*", "serverx.read", false],
    ["server.*", "admin.read", false],
    ["server.read", "server.read", true],
    ["server.read", "server.write", false],
    ["admin", "admin.read", false],
  ])("grant %s covers %s: %s", (granted, required, expected) => {
    expect(grants(granted, required)).toBe(expected);
  });

  it("checks every required permission against every grant", () => {
    expect(hasPermission(["server.read", "admin.*"], "admin.write")).toBe(true);
    expect(hasPermission(undefined, "admin.read")).toBe(false);
    expect(hasAll(["server.*"], ["server.read", "server.write"])).toBe(true);
    expect(hasAll(["server.read"], ["server.read", "server.write"])).toBe(false);
    expect(hasAll([], [])).toBe(true);
    expect(hasAll([], undefined)).toBe(true);
  });
});
