import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { jsonResponse } from "../test/fixtures";
import { useAuthStore } from "./auth";

const user = { id: 1, username: "admin", roles: ["admin"], permissions: ["*"] };

beforeEach(() => useAuthStore.setState({ status: "unknown", user: null, notice: null }));
afterEach(() => vi.unstubAllGlobals());

describe("auth store", () => {
  it("knows the user from /api/auth/me (the session cookie)", async () => {
    const fetch = vi.fn().mockResolvedValue(jsonResponse({ success: true, data: user }));
    vi.stubGlobal("fetch", fetch);
    await useAuthStore.getState().check();
    expect(useAuthStore.getState()).toMatchObject({ status: "authenticated", user });
    expect(fetch.mock.calls[0][0]).toBe("/api/auth/me");
  });

  it("is anonymous when /me answers 401", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(jsonResponse({ success: false, error: "Not authenticated" }, 401)));
    await useAuthStore.getState().check();
    expect(useAuthStore.getState()).toMatchObject({ status: "anonymous", user: null, notice: null });
  });

  it("logs in and out", async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(jsonResponse({ success: true, data: { token: "t", user } }))
      .mockResolvedValueOnce(jsonResponse({ success: true, message: "Logged out" }));
    vi.stubGlobal("fetch", fetch);
    await useAuthStore.getState().login("admin", "pw");
    expect(useAuthStore.getState().status).toBe("authenticated");
    expect(JSON.parse(fetch.mock.calls[0][1].body)).toEqual({ username: "admin", password: "pw" });
    await useAuthStore.getState().logout();
    expect(useAuthStore.getState()).toMatchObject({ status: "anonymous", user: null });
    expect(fetch.mock.calls[1][0]).toBe("/api/auth/logout");
  });

  it("shows the server's message on a failed login", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(jsonResponse({ success: false, error: "Invalid username or password" }, 401)));
    await expect(useAuthStore.getState().login("admin", "bad")).rejects.toThrow("Invalid username or password");
    expect(useAuthStore.getState().status).toBe("unknown");
  });

  it("says why when a session ends", () => {
    useAuthStore.setState({ status: "authenticated", user });
    useAuthStore.getState().expire();
    expect(useAuthStore.getState()).toMatchObject({ status: "anonymous", notice: expect.stringMatching(/session has ended/) });
  });
});
