// The plugin queries of the admin API and how pushes change them in the cache.

import { queryOptions, useQuery, type QueryClient } from "@tanstack/react-query";
import { api } from "../api";
import { hasPermission } from "../permissions";
import type { LogRecord, PluginDetail, PluginSummary, User } from "../types";
import { keys, type PluginListAudience } from "./keys";

const enc = encodeURIComponent;

/** The logs the UI keeps per plugin (the newest), and how many it asks for at first. */
export const KEEP_LOGS = 500;
const LOG_PAGE = 200;

export function listAudience(user: User | null | undefined): PluginListAudience {
  return hasPermission(user?.permissions, "admin.read") ? "admin" : "ui";
}

/** GET /api/plugins for admins; GET /api/ui/plugins (enabled plugins with a browser module) for others. */
export function pluginListQuery(audience: PluginListAudience) {
  return queryOptions({
    queryKey: keys.pluginList(audience),
    queryFn: ({ signal }) =>
      api<PluginSummary[]>(audience === "admin" ? "/api/plugins" : "/api/ui/plugins", { signal }),
  });
}

export function pluginDetailQuery(name: string) {
  return queryOptions({
    queryKey: keys.plugin(name),
    queryFn: ({ signal }) => api<PluginDetail>(`/api/plugins/${enc(name)}`, { signal }),
  });
}

/** The recent records; merged with those pushed (`plugin:log`) while the request ran. */
export function pluginLogsQuery(name: string) {
  return queryOptions({
    queryKey: keys.pluginLogs(name),
    queryFn: async ({ client, signal }) => {
      const page = await api<LogRecord[]>(`/api/plugins/${enc(name)}/logs`, { query: { limit: LOG_PAGE }, signal });
      return mergeLogs(client.getQueryData<LogRecord[]>(keys.pluginLogs(name)) ?? [], page ?? []);
    },
  });
}

/** The full plugin list, for the admin pages. */
export function usePluginList() {
  return useQuery(pluginListQuery("admin"));
}

/** The plugin list as `user` may see it; nothing while nobody is signed in. */
export function usePluginListFor(user: User | null) {
  return useQuery({ ...pluginListQuery(listAudience(user)), enabled: user !== null });
}

/** The plugin's detail; asked again every `refetchInterval` ms while the page is visible, if given. */
export function usePluginDetail(name: string, refetchInterval?: number) {
  return useQuery({ ...pluginDetailQuery(name), refetchInterval });
}

export function usePluginLogs(name: string) {
  return useQuery(pluginLogsQuery(name));
}

/** Merge records by sequence number, keeping the newest KEEP_LOGS. */
export function mergeLogs(current: LogRecord[], incoming: LogRecord[]): LogRecord[] {
  const bySeq = new Map<number, LogRecord>();
  for (const r of current) bySeq.set(r.seq, r);
  for (const r of incoming) bySeq.set(r.seq, r);
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return merged.length > KEEP_LOGS ? merged.slice(-KEEP_LOGS) : merged;
}

/** Put a fresh list item into every cached list and into the detail (or take it out). */
export function applyPluginSummary(client: QueryClient, name: string, plugin: PluginSummary | null): void {
  client.setQueriesData<PluginSummary[]>({ queryKey: keys.plugins }, (list) => {
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

/** Add a pushed log record to the plugin's logs, if anything shows (or is loading) them. */
export function applyPluginLog(client: QueryClient, name: string, record: LogRecord): void {
  const key = keys.pluginLogs(name);
  if (!client.getQueryCache().find({ queryKey: key, exact: true })) return;
  client.setQueryData<LogRecord[]>(key, (current) => mergeLogs(current ?? [], [record]));
}
