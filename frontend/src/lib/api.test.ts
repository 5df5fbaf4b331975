import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonResponse } from "../test/fixtures";
import { api, ApiError, onUnauthorized, requestJson } from "./api";

afterEach(() => vi.unstubAllGlobals());

describe("api", () => {
  it("returns the envelope's data and sends JSON with the cookie", async () => {
    const fetch = vi.fn().mockResolvedValue(jsonResponse({ success: true, data: { a: 1 } }));
    vi.stubGlobal("fetch", fetch);
    await expect(api("/api/x", { method: "PUT", body: { b: 2 }, query: { limit: 5, skip: undefined } })).resolves.toEqual({ a: 1 });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe("/api/x?limit=5");
    expect(init.method).toBe("PUT");
    expect(init.credentials).toBe("same-origin");
    expect(JSON.parse(init.body)).toEqual({ b: 2 });
  });

  it("throws the server's error with its field errors", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(
        jsonResponse({ success: false, error: "Invalid config", errors: { echoLimit: "must be at least 16, got 5" } }, 400),
      ),
    );
    const error = await api("/api/plugins/x/config").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toBe("Invalid config");
    expect((error as ApiError).fieldErrors).toEqual({ echoLimit: "must be at least 16, got 5" });
  });

  it("treats success:false as an error even with a 200", async () => {
    vi.stubGlobal("fetch", vi.fn().mockResolvedValue(jsonResponse({ success: false, error: "nope" })));
    await expect(requestJson("/x")).rejects.toThrow("nope");
  });

  it("reports a 401 unless asked to keep quiet", async () => {
    vi.stubGlobal("fetch", vi.fn().mockImplementation(async () => jsonResponse({ success: false, error: "Not authenticated" }, 401)));
    const listener = vi.fn();
    const off = onUnauthorized(listener);
    await expect(api("/api/a")).rejects.toThrow("Not authenticated");
    await expect(api("/api/a", { quiet401: true })).rejects.toThrow();
    off();
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it("says so when the server cannot be reached", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api("/api/a")).rejects.toMatchObject({ status: 0, message: "Cannot reach the Catalyst server" });
  });
});
