// TanStack Query keys, queries and mutations of the host API.

import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, apiWithMessage } from "./api";
import type { LogRecord, PluginDetail, PluginSummary, Server, ServerList } from "./types";

export const keys = {
  plugins: ["plugins"] as const,
  plugin: (name: string) => ["plugin", name] as const,
  pluginLogs: (name: string) => ["plugin", name, "logs"] as const,
  servers: ["servers"] as const,
};

const enc = encodeURIComponent;

export function usePluginList() {
  return useQuery({
    queryKey: keys.plugins,
    queryFn: ({ signal }) => api<PluginSummary[]>("/api/plugins", { signal }),
  });
}

export function usePluginDetail(name: string) {
  return useQuery({
    queryKey: keys.plugin(name),
    queryFn: ({ signal }) => api<PluginDetail>(`/api/plugins/${enc(name)}`, { signal }),
  });
}

export function fetchPluginLogs(name: string, limit = 200, signal?: AbortSignal) {
  return api<LogRecord[]>(`/api/plugins/${enc(name)}/logs`, { query: { limit }, signal });
}

/** Put a fresh list item into the list and into the detail, wherever they are cached. */
export function applyPluginSummary(client: QueryClient, name: string, plugin: PluginSummary | null): void {
  client.setQueryData<PluginSummary[]>(keys.plugins, (list) => {
    if (!list) return list;
    if (plugin === null) return list.filter((p) => p.name !== name);
    const index = list.findIndex((p) => p.name === name);
    if (index === -1) return [...list, plugin].sort((a, b) => a.name.localeCompare(b.name));
    const copy = list.slice();
    copy[index] = { ...copy[index], ...plugin };
    return copy;
  });
  if (plugin === null) {
    client.removeQueries({ queryKey: keys.plugin(name), exact: true });
  } else {
    client.setQueryData<PluginDetail>(keys.plugin(name), (detail) =>
      detail ? { ...detail, ...plugin } : detail,
    );
  }
}

export function useEnablePlugin() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, enabled }: { name: string; enabled: boolean }) =>
      apiWithMessage<PluginSummary>(`/api/plugins/${enc(name)}/enable`, {
        method: "POST",
        body: { enabled },
      }),
    onSuccess: ({ data }, { name }) => {
      if (data) applyPluginSummary(client, name, data);
      void client.invalidateQueries({ queryKey: keys.plugin(name) });
    },
    onError: (_error, { name }) => {
      void client.invalidateQueries({ queryKey: keys.plugins });
      void client.invalidateQueries({ queryKey: keys.plugin(name) });
    },
  });
}

/** Consent to permissions a plugin requests (its pendingPermissions); audited on the server. */
export function useGrantPermissions() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, grant }: { name: string; grant: string[] }) =>
      apiWithMessage<PluginSummary>(`/api/plugins/${enc(name)}/permissions`, {
        method: "POST",
        body: { grant },
      }),
    onSuccess: ({ data }, { name }) => {
      if (data) applyPluginSummary(client, name, data);
      void client.invalidateQueries({ queryKey: keys.plugin(name) });
    },
  });
}

export function useReloadPlugin() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name }: { name: string }) =>
      apiWithMessage<PluginSummary & { durationMs?: number }>(`/api/plugins/${enc(name)}/reload`, {
        method: "POST",
      }),
    onSettled: (_data, _error, { name }) => {
      void client.invalidateQueries({ queryKey: keys.plugins });
      void client.invalidateQueries({ queryKey: keys.plugin(name) });
    },
  });
}

export function useRescanPlugins() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => apiWithMessage<Record<string, unknown>>("/api/plugins/rescan", { method: "POST" }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.plugins }),
  });
}

export function useSaveConfig(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (config: Record<string, unknown>) =>
      apiWithMessage<Record<string, unknown>>(`/api/plugins/${enc(name)}/config`, {
        method: "PUT",
        body: { config },
      }),
    onSuccess: ({ data }) => {
      client.setQueryData<PluginDetail>(keys.plugin(name), (detail) =>
        detail && data ? { ...detail, config: data } : detail,
      );
      void client.invalidateQueries({ queryKey: keys.plugin(name) });
    },
  });
}

export function useRunTask(name: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (taskId: string) =>
      apiWithMessage(`/api/plugins/${enc(name)}/tasks/${enc(taskId)}/run`, { method: "POST" }),
    onSettled: () => client.invalidateQueries({ queryKey: keys.plugin(name) }),
  });
}

export function useServers() {
  return useQuery({
    queryKey: keys.servers,
    queryFn: ({ signal }) => api<ServerList>("/api/servers", { query: { limit: 500 }, signal }),
  });
}

/** Put a server into the cached list (or take it out). */
export function applyServer(client: QueryClient, server: Server, removed = false): void {
  client.setQueryData<ServerList>(keys.servers, (list) => {
    if (!list) return list;
    const index = list.items.findIndex((s) => s.id === server.id);
    if (removed) {
      if (index === -1) return list;
      return { items: list.items.filter((s) => s.id !== server.id), total: list.total - 1 };
    }
    if (index === -1) return { items: [...list.items, server], total: list.total + 1 };
    const items = list.items.slice();
    items[index] = { ...items[index], ...server };
    return { ...list, items };
  });
}

export function useServerAction() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, action }: { id: number; action: "start" | "stop" }) =>
      apiWithMessage<Server>(`/api/servers/${id}/${action}`, { method: "POST" }),
    onSuccess: ({ data }) => {
      if (data) applyServer(client, data);
    },
    onSettled: () => client.invalidateQueries({ queryKey: keys.servers }),
  });
}

export function useCreateServer() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { name: string; game: string; node: string }) =>
      apiWithMessage<Server>("/api/servers", { method: "POST", body }),
    onSuccess: ({ data }) => {
      if (data) applyServer(client, data);
    },
    onSettled: () => client.invalidateQueries({ queryKey: keys.servers }),
  });
}

export function useDeleteServer() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (server: Server) =>
      apiWithMessage<null>(`/api/servers/${server.id}`, { method: "DELETE" }),
    onSuccess: (_data, server) => applyServer(client, server, true),
    onSettled: () => client.invalidateQueries({ queryKey: keys.servers }),
  });
}
