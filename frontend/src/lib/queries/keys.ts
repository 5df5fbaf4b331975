// The query keys of the host API: every cached server answer lives under one of these.

import type { AuditFilters } from "./accounts";

/** Who asks for the plugin list: admins get every plugin, others those with a browser module. */
export type PluginListAudience = "admin" | "ui";

export const keys = {
  /** Prefix of every plugin list (there is one per audience). */
  plugins: ["plugins"] as const,
  pluginList: (audience: PluginListAudience) => ["plugins", audience] as const,
  /** Prefix of every plugin detail. */
  details: ["plugin"] as const,
  plugin: (name: string) => ["plugin", name] as const,
  /** Prefix of every plugin's logs. */
  logs: ["pluginLogs"] as const,
  pluginLogs: (name: string) => ["pluginLogs", name] as const,
  servers: ["servers"] as const,
  users: ["users"] as const,
  roles: ["roles"] as const,
  /** Prefix of every audit page. */
  audit: ["audit"] as const,
  auditPage: (filters: AuditFilters, cursor: number | null) => ["audit", filters, cursor] as const,
  catalog: ["catalog"] as const,
};
