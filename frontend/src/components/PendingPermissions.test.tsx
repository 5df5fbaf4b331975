import { QueryClientProvider } from "@tanstack/react-query";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { jsonResponse, newQueryClient, summary } from "../test/fixtures";
import { PendingPermissions } from "./PendingPermissions";

afterEach(() => vi.unstubAllGlobals());

describe("PendingPermissions", () => {
  it("shows nothing when nothing waits for consent", () => {
    const { container } = render(
      <QueryClientProvider client={newQueryClient()}>
        <PendingPermissions plugin={summary({ pendingPermissions: [] })} />
      </QueryClientProvider>,
    );
    expect(container.textContent).toBe("");
  });

  it("asks for consent and grants exactly the pending permissions", async () => {
    const fetch = vi.fn(async (_url: string, _init?: RequestInit) =>
      jsonResponse({ success: true, data: summary({ grantedPermissions: ["http.public"], pendingPermissions: [] }) }),
    );
    vi.stubGlobal("fetch", fetch);
    const plugin = summary({
      permissions: ["http.public", "server.read"],
      grantedPermissions: ["server.read"],
      pendingPermissions: ["http.public"],
    });
    render(
      <QueryClientProvider client={newQueryClient()}>
        <PendingPermissions plugin={plugin} />
      </QueryClientProvider>,
    );
    expect(screen.getByTestId("pending-permissions").textContent).toContain("http.public");
    fireEvent.click(screen.getByRole("button", { name: "Review and grant" }));
    expect(screen.getByTestId("pending-consent-permissions").textContent).toContain("not logged in");
    fireEvent.click(screen.getByTestId("pending-consent-confirm"));
    await waitFor(() => expect(fetch).toHaveBeenCalled());
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe("/api/plugins/demo/permissions");
    expect(init?.method).toBe("POST");
    expect(JSON.parse(init?.body as string)).toEqual({ grant: ["http.public"] });
  });
});
