// The game server queries and mutations, and how pushes change the cached list.

import { queryOptions, useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { api, apiWithMessage } from "../api";
import type { Server, ServerList } from "../types";
import { keys } from "./keys";

export function serverListQuery() {
  return queryOptions({
    queryKey: keys.servers,
    queryFn: ({ signal }) => api<ServerList>("/api/servers", { query: { limit: 500 }, signal }),
  });
}

export function useServers() {
  return useQuery(serverListQuery());
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
