import { QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Routes } from "../App";
import { useAuthStore } from "../state/auth";
import type { AuditEntry } from "../lib/types";
import { jsonResponse, newQueryClient } from "../test/fixtures";
import { AuditPage, describeDetails, toFilters } from "./AuditPage";

function entry(id: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id,
    actor: "admin",
    action: "plugin.reload",
    target: "example-plugin",
    details: { durationMs: 12.5 },
    createdAt: "2026-01-01T00:00:00+00:00",
    ...overrides,
  };
}

function server(urls: string[]) {
  return vi.fn(async (url: string) => {
    urls.push(url);
    const params = new URL(url, "http://x").searchParams;
    if (params.get("cursor") === "51") {
      return jsonResponse({ success: true, data: { items: [entry(1, { action: "user.create", target: "old" })], total: 51, nextCursor: null } });
    }
    const items = Array.from({ length: 50 }, (_, i) => entry(101 - i));
    items[0] = entry(101, { actor: "system:watcher", details: { ok: false, error: "SyntaxError" } });
    return jsonResponse({ success: true, data: { items, total: 51, nextCursor: 51 } });
  });
}

function renderPage() {
  return render(
    <QueryClientProvider client={newQueryClient()}>
      <AuditPage />
    </QueryClientProvider>,
  );
}

afterEach(() => vi.unstubAllGlobals());

describe("toFilters", () => {
  it("drops blanks and sends local times as UTC", () => {
    const since = "2026-01-02T03:04";
    expect(toFilters({ actor: " admin ", action: "", target: "", since, until: "" })).toEqual({
      actor: "admin",
      since: new Date(since).toISOString(),
    });
  });
});

describe("describeDetails", () => {
  it("puts every detail on one line", () => {
    expect(describeDetails({ ok: false, error: "boom", keys: ["a"] })).toBe('ok=false error=boom keys=["a"]');
  });
});

describe("AuditPage", () => {
  it("shows the newest entries, pages with the cursor and back", async () => {
    const urls: string[] = [];
    vi.stubGlobal("fetch", server(urls));
    renderPage();
    expect(await screen.findByText("system:watcher")).toBeTruthy();
    expect(screen.getAllByTestId("audit-row")).toHaveLength(50);
    expect(screen.getByText("ok=false error=SyntaxError")).toBeTruthy();
    expect(screen.getByTestId("audit-range").textContent).toBe("1–50 of 51");
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Newer" }).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Older" }));
    expect(await screen.findByText("old")).toBeTruthy();
    expect(urls.at(-1)).toContain("cursor=51");
    expect(screen.getByTestId("audit-range").textContent).toBe("51–51 of 51");
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Older" }).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Newer" }));
    expect(await screen.findByText("system:watcher")).toBeTruthy();
  });

  it("sends the filters and starts again at the newest page", async () => {
    const urls: string[] = [];
    vi.stubGlobal("fetch", server(urls));
    renderPage();
    await screen.findByText("system:watcher");
    fireEvent.change(screen.getByLabelText("Actor"), { target: { value: "admin" } });
    fireEvent.change(screen.getByLabelText("Action"), { target: { value: "user" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => expect(urls.at(-1)).toContain("actor=admin"));
    const params = new URL(urls.at(-1)!, "http://x").searchParams;
    expect(params.get("action")).toBe("user");
    expect(params.get("limit")).toBe("50");
    expect(params.has("cursor")).toBe(false);
  });

  it("says when the server refuses", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => jsonResponse({ success: false, error: "Missing permission: admin.read" }, 403)));
    renderPage();
    expect(await screen.findByText("Missing permission: admin.read")).toBeTruthy();
  });
});

describe("routes", () => {
  it("open the audit log for admin.read and users for user.read, and refuse the rest", async () => {
    vi.stubGlobal("fetch", server([]));
    const at = (path: string, permissions: string[]) => {
      useAuthStore.setState({ status: "authenticated", user: { id: 5, username: "u", roles: [], permissions } });
      window.history.replaceState(null, "", path);
      return render(
        <QueryClientProvider client={newQueryClient()}>
          <Routes />
        </QueryClientProvider>,
      );
    };
    const refusedAudit = at("/audit", ["user.read"]);
    expect(await screen.findByText(/may not see the audit log/)).toBeTruthy();
    refusedAudit.unmount();
    const refusedUsers = at("/users", ["admin.read"]);
    expect(await screen.findByText(/may not see user accounts/)).toBeTruthy();
    refusedUsers.unmount();
    at("/audit", ["admin.read"]);
    expect(await screen.findByRole("heading", { name: "Audit log", level: 1 })).toBeTruthy();
  });
});
