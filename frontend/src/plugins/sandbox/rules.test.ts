import { describe, expect, it } from "vitest";
import { checkApiCall, checkNavigation, checkSocketType, checkToast, clampHeight, deliverable, MAX_FRAME_HEIGHT } from "./rules";

const ORIGIN = "https://panel.example";
const call = (method: string, path: string, plugin = "example-plugin") => checkApiCall(plugin, method, path, ORIGIN);

describe("checkApiCall", () => {
  it("allows the plugin's own routes, with their query", () => {
    expect(call("GET", "/api/plugins/example-plugin/hello")).toEqual({ ok: true, url: "/api/plugins/example-plugin/hello" });
    expect(call("post", "/api/plugins/example-plugin/echo?x=1")).toEqual({
      ok: true,
      url: "/api/plugins/example-plugin/echo?x=1",
    });
    expect(call("DELETE", `${ORIGIN}/api/plugins/example-plugin/items/3`)).toMatchObject({ ok: true });
    // a route that merely starts like an admin one is the plugin's
    expect(call("GET", "/api/plugins/example-plugin/configuration")).toMatchObject({ ok: true });
  });

  it.each([
    ["/api/users"],
    ["/api/auth/me"],
    ["/api/plugins"],
    ["/api/plugins/example-plugin"],
    ["/api/plugins/example-plugin/"],
    ["/api/plugins/example-plugin//"],
    ["/api/plugins/example-plugin/enable"],
    ["/api/plugins/example-plugin/Enable"],
    ["/api/plugins/example-plugin/reload"],
    ["/api/plugins/example-plugin/config"],
    ["/api/plugins/example-plugin/logs?limit=5"],
    ["/api/plugins/example-plugin/tasks/five-minute/run"],
    ["/api/plugins/example-plugin/frontend/index.js"],
    ["/api/plugins/example-plugin/permissions"],
    ["/api/plugins/other-plugin/hello"],
    ["/api/plugins/example-plugin-evil/hello"],
    ["/api/plugins/example-plugin/../../users"],
    ["/api/plugins/example-plugin/../other/hello"],
    ["/api/plugins/example-plugin/%2e%2e/enable"],
    ["/api/plugins/example-plugin/a/..%2fenable"],
    ["/api/plugins/example-plugin/a%5c..%5cenable"],
    ["/api/plugins/example-plugin\\..\\enable"],
    ["https://evil.example/api/plugins/example-plugin/hello"],
    ["//evil.example/api/plugins/example-plugin/hello"],
    ["https://user:pw@panel.example/api/plugins/example-plugin/hello"],
    ["javascript:alert(1)"],
    [""],
  ])("refuses %s", (path) => {
    expect(call("GET", path)).toMatchObject({ ok: false });
  });

  it("refuses other methods", () => {
    expect(call("OPTIONS", "/api/plugins/example-plugin/hello")).toMatchObject({ ok: false });
    expect(call("CONNECT", "/api/plugins/example-plugin/hello")).toMatchObject({ ok: false });
  });

  it("encodes the plugin name it compares with", () => {
    expect(checkApiCall("a b", "GET", "/api/plugins/a%20b/x", ORIGIN)).toMatchObject({ ok: true });
    expect(checkApiCall("a b", "GET", "/api/plugins/a b/x", ORIGIN)).toMatchObject({ ok: true });
  });
});

describe("socket rules", () => {
  it("sends only the plugin's own message types", () => {
    expect(checkSocketType("p", "plugin:p:ping")).toBe(true);
    expect(checkSocketType("p", "plugin:q:ping")).toBe(false);
    expect(checkSocketType("p", "plugin:p:")).toBe(false);
    expect(checkSocketType("p", "plugin:p:*")).toBe(false);
    expect(checkSocketType("p", "subscribe")).toBe(false);
    expect(checkSocketType("p", "plugin:pq:ping")).toBe(false);
    expect(checkSocketType("p", 42)).toBe(false);
  });

  it("delivers only the plugin's own messages", () => {
    expect(deliverable("p", "plugin:p:pong")).toBe(true);
    expect(deliverable("p", "plugin:q:pong")).toBe(false);
    expect(deliverable("p", "plugins:updated")).toBe(false);
  });
});

describe("navigation, toasts, size", () => {
  it("navigates only inside the app", () => {
    expect(checkNavigation("/ext/p/tab")).toBe(true);
    expect(checkNavigation("/plugins?x=1#y")).toBe(true);
    for (const bad of ["https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "plugins", "/a\nb", 7]) {
      expect(checkNavigation(bad)).toBe(false);
    }
  });

  it("takes toasts of a known tone, cut to length", () => {
    expect(checkToast("success", "Saved")).toEqual({ tone: "success", message: "Saved" });
    expect(checkToast("warning", "x")).toBeNull();
    expect(checkToast("info", "  ")).toBeNull();
    expect(checkToast("error", "x".repeat(2000))?.message).toHaveLength(500);
  });

  it("clamps the height", () => {
    expect(clampHeight(120.2)).toBe(121);
    expect(clampHeight(-5)).toBe(0);
    expect(clampHeight(1e9)).toBe(MAX_FRAME_HEIGHT);
    expect(clampHeight(Number.NaN)).toBeNull();
    expect(clampHeight("100")).toBeNull();
  });
});
