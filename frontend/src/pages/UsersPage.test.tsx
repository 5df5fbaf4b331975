import { QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Account, User } from "../lib/types";
import { useAuthStore } from "../state/auth";
import { useToastStore } from "../state/toasts";
import { admin, jsonResponse, newQueryClient } from "../test/fixtures";
import { UsersPage } from "./UsersPage";

function account(overrides: Partial<Account>): Account {
  return {
    id: 1,
    username: "admin",
    roles: ["admin"],
    permissions: ["*"],
    enabled: true,
    admin: true,
    createdAt: "2026-01-01T00:00:00+00:00",
    ...overrides,
  };
}

const ROLES = {
  items: [
    { name: "admin", description: "Everything", permissions: ["*"], builtin: true, users: 1 },
    { name: "operator", description: "Runs servers", permissions: ["admin.read", "server.*"], builtin: true, users: 0 },
    { name: "viewer", description: "Reads", permissions: ["admin.read", "server.read"], builtin: true, users: 1 },
    { name: "support", description: "Help desk", permissions: ["user.read"], builtin: false, users: 0 },
  ],
  catalog: { "user.read": "See user accounts", "user.write": "Change user accounts", "server.read": "See servers" },
};

type Call = { url: string; method: string; body: unknown };

function server(calls: Call[], answers: Record<string, () => Response> = {}) {
  const accounts = [account({}), account({ id: 2, username: "vera", roles: ["viewer"], permissions: ["server.read"], admin: false })];
  return vi.fn(async (url: string, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    calls.push({ url, method, body: init?.body ? JSON.parse(init.body as string) : undefined });
    const key = `${method} ${url.split("?")[0]}`;
    if (answers[key]) return answers[key]();
    if (key === "GET /api/users") return jsonResponse({ success: true, data: { items: accounts, total: accounts.length } });
    if (key === "GET /api/roles") return jsonResponse({ success: true, data: ROLES });
    return jsonResponse({ success: false, error: "Not found" }, 404);
  });
}

function renderAs(user: User) {
  useAuthStore.setState({ status: "authenticated", user });
  return render(
    <QueryClientProvider client={newQueryClient()}>
      <UsersPage />
    </QueryClientProvider>,
  );
}

beforeEach(() => useToastStore.setState({ toasts: [] }));
afterEach(() => vi.unstubAllGlobals());

describe("UsersPage", () => {
  it("lists accounts and roles; a reader gets no write controls", async () => {
    vi.stubGlobal("fetch", server([]));
    renderAs({ id: 9, username: "reader", roles: ["support"], permissions: ["user.read"] });
    const row = await screen.findByText("vera");
    expect(within(row.closest("tr")!).getByText("viewer")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "New user" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Disable/ })).toBeNull();
    expect(screen.queryByLabelText("Role of vera")).toBeNull();
    const roles = await screen.findByTestId("roles-card");
    expect(within(roles).getByText("support")).toBeTruthy();
    expect(within(roles).queryByRole("button", { name: /Edit/ })).toBeNull();
  });

  it("creates a user with a role and shows the generated password once", async () => {
    const calls: Call[] = [];
    vi.stubGlobal(
      "fetch",
      server(calls, {
        "POST /api/users": () =>
          jsonResponse(
            { success: true, data: { user: account({ id: 3, username: "newbie", roles: ["operator"], admin: false }), password: "Gen3rated-Pass" } },
            201,
          ),
      }),
    );
    renderAs(admin);
    fireEvent.click(await screen.findByRole("button", { name: "New user" }));
    fireEvent.change(screen.getByLabelText("Username"), { target: { value: "newbie" } });
    await screen.findAllByRole("option", { name: "operator" });
    fireEvent.change(screen.getByLabelText("Role"), { target: { value: "operator" } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    expect((await screen.findByTestId("generated-password")).textContent).toBe("Gen3rated-Pass");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ username: "newbie", role: "operator" });
    fireEvent.click(screen.getByRole("button", { name: "Done" }));
    await waitFor(() => expect(screen.queryByTestId("generated-password")).toBeNull());
  });

  it("changes a role, disables, and resets a password showing the new one", async () => {
    const calls: Call[] = [];
    vi.stubGlobal(
      "fetch",
      server(calls, {
        "PUT /api/users/2/role": () => jsonResponse({ success: true, data: account({ id: 2, username: "vera", roles: ["operator"] }) }),
        "POST /api/users/2/disable": () => jsonResponse({ success: true, data: account({ id: 2, username: "vera", enabled: false }) }),
        "POST /api/users/2/password": () =>
          jsonResponse({ success: true, data: { user: account({ id: 2, username: "vera" }), password: "Fresh-Pass-123" } }),
      }),
    );
    renderAs(admin);
    const select = await screen.findByLabelText("Role of vera");
    await screen.findAllByRole("option", { name: "operator" });
    fireEvent.change(select, { target: { value: "operator" } });
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({ role: "operator" });

    fireEvent.click(screen.getByRole("button", { name: "Disable vera" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/users/2/disable")).toBe(true));

    fireEvent.click(screen.getByRole("button", { name: "Reset the password of vera" }));
    fireEvent.click(await screen.findByRole("button", { name: "Reset" }));
    expect((await screen.findByTestId("generated-password")).textContent).toBe("Fresh-Pass-123");
    expect(calls.find((c) => c.url === "/api/users/2/password")?.body).toEqual({});
  });

  it("shows the server's refusal, e.g. disabling the last admin", async () => {
    vi.stubGlobal(
      "fetch",
      server([], {
        "POST /api/users/1/disable": () =>
          jsonResponse({ success: false, error: "Cannot disable 'admin': no enabled admin would be left" }, 409),
      }),
    );
    renderAs(admin);
    fireEvent.click(await screen.findByRole("button", { name: "Disable admin" }));
    await waitFor(() =>
      expect(useToastStore.getState().toasts.map((t) => t.message).join()).toContain("no enabled admin would be left"),
    );
  });

  it("creates a custom role with permissions from the catalog", async () => {
    const calls: Call[] = [];
    vi.stubGlobal(
      "fetch",
      server(calls, {
        "POST /api/roles": () =>
          jsonResponse({ success: true, data: { name: "helpers", description: "", permissions: ["user.read"], builtin: false } }, 201),
      }),
    );
    renderAs(admin);
    const roles = await screen.findByTestId("roles-card");
    fireEvent.click(within(roles).getByRole("button", { name: "New role" }));
    fireEvent.change(screen.getByLabelText("Role name"), { target: { value: "helpers" } });
    fireEvent.click(within(roles).getByRole("checkbox", { name: /user\.read/ }));
    fireEvent.click(screen.getByRole("button", { name: "Create role" }));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/roles" && c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "helpers", description: "", permissions: ["user.read"] });
  });

  it("offers a user manager without * only what they hold", async () => {
    vi.stubGlobal("fetch", server([]));
    renderAs({ id: 9, username: "manager", roles: ["managers"], permissions: ["user.*", "server.read", "admin.read"] });
    // The admin's row offers nothing; the viewer's row can be changed.
    await screen.findByText("vera");
    expect(screen.queryByRole("button", { name: "Disable admin" })).toBeNull();
    expect(screen.queryByLabelText("Role of admin")).toBeNull();
    expect(screen.getByRole("button", { name: "Disable vera" })).toBeTruthy();
    const select = screen.getByLabelText("Role of vera");
    const option = (name: string) => within(select).getByRole<HTMLOptionElement>("option", { name });
    await waitFor(() => expect(option("admin").disabled).toBe(true));
    expect(option("operator").disabled).toBe(true);
    expect(option("viewer").disabled).toBe(false);
    expect(option("support").disabled).toBe(false);
  });
});
