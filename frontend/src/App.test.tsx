import { QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import { SocketProvider } from "./live/SocketContext";
import { CatalystSocket } from "./live/socket";
import { usePluginStore } from "./plugins/store";
import { useAuthStore } from "./state/auth";
import { jsonResponse, newQueryClient, summary } from "./test/fixtures";

class SilentWebSocket {
  readyState = 0;
  onopen = null;
  onclose = null;
  onmessage = null;
  onerror = null;
  send() {}
  close() {}
}

const user = { id: 1, username: "admin", roles: ["admin"], permissions: ["*"] };

function routes(loggedIn: { value: boolean }) {
  return vi.fn(async (url: string, init?: RequestInit) => {
    if (url === "/api/auth/me")
      return loggedIn.value ? jsonResponse({ success: true, data: user }) : jsonResponse({ success: false, error: "Not authenticated" }, 401);
    if (url === "/api/auth/login") {
      const body = JSON.parse(init?.body as string);
      if (body.password !== "right") return jsonResponse({ success: false, error: "Invalid username or password" }, 401);
      loggedIn.value = true;
      return jsonResponse({ success: true, data: { token: "t", user } });
    }
    if (url === "/api/auth/logout") {
      loggedIn.value = false;
      return jsonResponse({ success: true, message: "Logged out" });
    }
    if (url === "/api/plugins") return jsonResponse({ success: true, data: [summary({ name: "example-plugin", displayName: "Example Plugin", hasFrontend: false })] });
    if (url.startsWith("/api/servers")) return jsonResponse({ success: true, data: { items: [], total: 0 } });
    return jsonResponse({ success: false, error: "Not found" }, 404);
  });
}

function renderApp() {
  const socket = new CatalystSocket({ url: "ws://test/ws", WebSocketImpl: SilentWebSocket as unknown as typeof WebSocket });
  return render(
    <QueryClientProvider client={newQueryClient()}>
      <SocketProvider socket={socket}>
        <App />
      </SocketProvider>
    </QueryClientProvider>,
  );
}

beforeEach(() => {
  useAuthStore.setState({ status: "unknown", user: null, notice: null });
  usePluginStore.getState().reset();
  window.history.replaceState(null, "", "/plugins");
});
afterEach(() => vi.unstubAllGlobals());

describe("App", () => {
  it("shows the login page, refuses a wrong password, then opens the page asked for", async () => {
    vi.stubGlobal("fetch", routes({ value: false }));
    renderApp();
    fireEvent.change(await screen.findByLabelText("Username"), { target: { value: "admin" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByTestId("login-error")).textContent).toBe("Invalid username or password");
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "right" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Plugins", level: 1 })).toBeTruthy();
    expect(await screen.findByRole("link", { name: "Example Plugin" })).toBeTruthy();
  });

  it("keeps the session: a valid cookie goes straight to the panel, and logout ends it", async () => {
    vi.stubGlobal("fetch", routes({ value: true }));
    renderApp();
    expect(await screen.findByRole("heading", { name: "Plugins", level: 1 })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Log out" }));
    await waitFor(() => expect(screen.getByRole("button", { name: "Sign in" })).toBeTruthy());
  });
});
