import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { keys } from "../lib/queries";
import { SocketProvider } from "../live/SocketContext";
import { CatalystSocket } from "../live/socket";
import type { Catalog, PluginSummary, User } from "../lib/types";
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
    // In-page modules unless a test asks for the sandbox.
    runtime: { runtime: "inprocess" },
    ...overrides,
  };
}

export const admin: User = { id: 1, username: "admin", roles: ["admin"], permissions: ["*"] };
export const viewer: User = { id: 2, username: "viewer", roles: ["viewer"], permissions: ["server.read"] };

/** What GET /api/catalog answers in tests. */
export const catalog: Catalog = {
  permissions: [
    { name: "admin.read", description: "See plugins, their configuration, logs and the audit log" },
    { name: "server.read", description: "See game servers" },
    { name: "http.public", description: "Serve HTTP routes to callers who are not logged in" },
    {
      name: "host.full",
      description:
        "Full access to the host: the plugin runs inside the Catalyst process (runtime 'inprocess'), where its code can read every secret and the database and act as any user",
    },
  ],
  pluginStates: ["discovered", "loaded", "enabled", "disabled", "unloaded", "restarting", "error"],
};

/** A query client for tests; the catalog is already in it unless `withCatalog` is false. */
export function newQueryClient({ withCatalog = true }: { withCatalog?: boolean } = {}): QueryClient {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  if (withCatalog) client.setQueryData(keys.catalog, catalog);
  return client;
}

/** Put `plugins` in the cache as the plugin list of every audience, as if fetched (and never stale). */
export function seedPlugins(client: QueryClient, plugins: PluginSummary[]): void {
  for (const audience of ["admin", "ui"] as const) {
    client.setQueryDefaults(keys.pluginList(audience), { staleTime: Infinity });
    client.setQueryData(keys.pluginList(audience), plugins);
  }
}

/** The host's providers around `children`, with `plugins` as the cached plugin list. */
export function Host({
  children,
  plugins,
  importer,
  user = admin,
  socket = new CatalystSocket(),
  client,
}: {
  children: ReactNode;
  plugins: PluginSummary[];
  importer: ModuleImporter;
  user?: User | null;
  socket?: CatalystSocket;
  client?: QueryClient;
}) {
  const [queryClient] = useState(() => {
    const created = client ?? newQueryClient();
    seedPlugins(created, plugins);
    return created;
  });
  useEffect(() => seedPlugins(queryClient, plugins), [queryClient, plugins]);
  return (
    <QueryClientProvider client={queryClient}>
      <SocketProvider socket={socket}>
        <PluginProvider socket={socket} user={user} importer={importer}>
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
