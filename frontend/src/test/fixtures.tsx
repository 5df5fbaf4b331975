import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { SocketProvider } from "../live/SocketContext";
import { CatalystSocket } from "../live/socket";
import type { PluginSummary, User } from "../lib/types";
import type { ModuleImporter } from "../plugins/loader";
import { PluginProvider } from "../plugins/PluginProvider";

export function summary(overrides: Partial<PluginSummary> = {}): PluginSummary {
  return {
    name: "demo",
    version: "1.0.0",
    displayName: "Demo Plugin",
    description: "A plugin for tests",
    author: "Tests",
    status: "enabled",
    enabled: true,
    loadedAt: "2024-01-01T00:00:00+00:00",
    enabledAt: "2024-01-01T00:00:00+00:00",
    installedAt: "2024-01-01T00:00:00+00:00",
    error: null,
    errors: [],
    warnings: [],
    reloadError: null,
    permissions: [],
    grantedPermissions: [],
    pendingPermissions: [],
    hookError: null,
    hookOverruns: [],
    hasBackend: true,
    hasFrontend: true,
    frontendEntry: "frontend/index.js",
    ...overrides,
  };
}

export const admin: User = { id: 1, username: "admin", roles: ["admin"], permissions: ["*"] };
export const viewer: User = { id: 2, username: "viewer", roles: ["viewer"], permissions: ["server.read"] };

export function newQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
}

export function Host({
  children,
  plugins,
  importer,
  user = admin,
  socket = new CatalystSocket(),
  client = newQueryClient(),
}: {
  children: ReactNode;
  plugins: PluginSummary[];
  importer: ModuleImporter;
  user?: User | null;
  socket?: CatalystSocket;
  client?: QueryClient;
}) {
  return (
    <QueryClientProvider client={client}>
      <SocketProvider socket={socket}>
        <PluginProvider socket={socket} user={user} plugins={plugins} importer={importer}>
          {children}
        </PluginProvider>
      </SocketProvider>
    </QueryClientProvider>
  );
}

/** A Response carrying `body` as JSON. */
export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
