// The plugin mutations of the admin API: each updates or invalidates the queries it changes.

import { type QueryClient, useMutation, useQueryClient } from "@tanstack/react-query";
import { apiWithMessage } from "../api";
import type { PluginDetail, PluginSummary } from "../types";
import { keys } from "./keys";
import { applyPluginSummary } from "./plugins";

const enc = encodeURIComponent;

/** An answer carrying the plugin's new summary: put it in the list, refetch the details. */
function summaryApplied(client: QueryClient) {
  return ({ data }: { data?: PluginSummary | null }, { name }: { name: string }) => {
    if (data) applyPluginSummary(client, name, data);
    void client.invalidateQueries({ queryKey: keys.plugin(name) });
  };
}

export function useEnablePlugin() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ name, enabled }: { name: string; enabled: boolean }) =>
      apiWithMessage<PluginSummary>(`/api/plugins/${enc(name)}/enable`, {
        method: "POST",
        body: { enabled },
      }),
    onSuccess: summaryApplied(client),
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
    onSuccess: summaryApplied(client),
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
