import { act, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Routes } from "./App";
import { Layout } from "./components/Layout";
import { navigate } from "./lib/router";
import type { User } from "./lib/types";
import { documentTitle, findRoute, ROUTES } from "./routes";
import { useAuthStore } from "./state/auth";
import { admin, Host, jsonResponse, viewer } from "./test/fixtures";

function renderPanel(user: User) {
  useAuthStore.setState({ status: "authenticated", user, notice: null });
  return render(
    <Host plugins={[]} importer={vi.fn()} user={user}>
      <Layout>
        <Routes />
      </Layout>
    </Host>,
  );
}

function navLabels(): string[] {
  const nav = screen.getByRole("navigation", { name: "Main" });
  return within(nav)
    .getAllByRole("link")
    .map((a) => a.textContent ?? "");
}

beforeEach(() => {
  vi.stubGlobal("fetch", vi.fn(async () => jsonResponse({ success: false, error: "Not found" }, 404)));
  window.history.replaceState(null, "", "/");
});
afterEach(() => vi.unstubAllGlobals());

describe("the route table", () => {
  it("finds routes in order, with their parameters and checks", () => {
    expect(findRoute("/")?.route.title).toBe("Dashboard");
    expect(findRoute("/plugins/a%20b")?.params).toEqual({ name: "a b" });
    expect(findRoute("/servers/12")?.route.title).toBe("Server");
    expect(findRoute("/servers/abc")).toBeNull();
    expect(findRoute("/ext/p/page/a/b")?.params).toEqual({ plugin: "p", "*": "a/b" });
    expect(findRoute("/nowhere")).toBeNull();
    expect(documentTitle(findRoute("/audit")?.route)).toBe("Audit log · Catalyst");
    expect(documentTitle(null)).toBe("Catalyst");
  });

  it("feeds the navigation and the titles: each nav link opens a page titled by its route", () => {
    renderPanel(admin);
    const withNav = ROUTES.filter((r) => r.nav);
    expect(navLabels()).toEqual(["Dashboard", "Servers", "Plugins", "Users", "Audit log"]);
    for (const route of withNav) {
      const link = within(screen.getByRole("navigation", { name: "Main" })).getByRole("link", { name: route.nav?.label });
      act(() => link.click());
      expect(window.location.pathname).toBe(route.path);
      expect(document.title).toBe(`${route.title} · Catalyst`);
      expect(link.getAttribute("aria-current")).toBe("page");
    }
  });

  it("lists only what the user may open, and refuses the rest by the route's subject", () => {
    renderPanel(viewer);
    expect(navLabels()).toEqual(["Dashboard", "Servers"]);
    expect(screen.queryByText("Admin")).toBeNull();
    act(() => navigate("/audit"));
    expect(screen.getByText("Your account may not see the audit log.")).toBeTruthy();
    expect(document.title).toBe("Audit log · Catalyst");
    act(() => navigate("/nowhere"));
    expect(screen.getByText("Page not found")).toBeTruthy();
    expect(document.title).toBe("Catalyst");
  });
});
