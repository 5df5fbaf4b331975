// The JSON shapes of the Catalyst API (src/catalyst/plugins/views.py, src/catalyst/api/*.py).

export type PluginStatus =
  | "discovered"
  | "loaded"
  | "enabled"
  | "disabled"
  | "error"
  | "unloaded";

export const PLUGIN_STATUSES: readonly PluginStatus[] = [
  "enabled",
  "disabled",
  "loaded",
  "error",
  "discovered",
  "unloaded",
];

export interface ManifestProblem {
  path: string;
  message: string;
}

export interface ReloadError {
  message: string;
  traceback?: string | null;
  at?: string | null;
}

export interface PluginSummary {
  name: string;
  version: string;
  displayName: string;
  description: string;
  author: string;
  status: PluginStatus;
  enabled: boolean;
  loadedAt: string | null;
  enabledAt: string | null;
  installedAt?: string | null;
  error: string | null;
  errors: ManifestProblem[];
  reloadError: ReloadError | null;
  permissions: string[];
  grantedPermissions: string[];
  hasBackend: boolean;
  hasFrontend: boolean;
  /** Present when the backend includes it in the list; otherwise read from the detail. */
  frontendEntry?: string | null;
}

export type ConfigFieldType =
  | "string"
  | "text"
  | "number"
  | "integer"
  | "boolean"
  | "select"
  | "secret"
  | "password";

export interface ConfigFieldSchema {
  type: ConfigFieldType;
  label: string;
  description: string;
  default: unknown;
  required: boolean;
  secret: boolean;
  options?: { value: string; label: string }[];
  min?: number;
  max?: number;
}

export type ConfigSchema = Record<string, ConfigFieldSchema>;

export interface PluginRoute {
  method: string;
  url: string;
  permission?: string | null;
  public?: boolean;
}

export interface PluginTask {
  id: string;
  name: string;
  cron: string;
  nextRun?: string | null;
  lastRun?: string | null;
  lastDuration?: number | null;
  lastError?: string | null;
  runCount?: number;
  skippedCount?: number;
  errorCount?: number;
  running?: boolean;
}

export interface PluginListener {
  event: string;
  errors: number;
  lastError: string | null;
}

export interface PluginEventSpec {
  description?: string;
  payload?: Record<string, unknown>;
}

export interface PluginDetail extends PluginSummary {
  catalystVersion: string | null;
  config: Record<string, unknown>;
  configSchema: ConfigSchema;
  routes: PluginRoute[];
  middleware?: number;
  wsHandlers: string[];
  tasks: PluginTask[];
  listeners: PluginListener[];
  dependencies: Record<string, string>;
  dependents: string[];
  events: Record<string, PluginEventSpec>;
  frontendEntry: string | null;
  errorDetail: string | null;
  counts: Record<string, number>;
  stalls?: PluginStall[];
}

/** An event-loop stall the watchdog blamed on a plugin (newest last in `PluginDetail.stalls`). */
export interface PluginStall {
  time: number;
  durationMs: number;
  kind: string | null;
  name: string | null;
  function: string | null;
}

export type LogLevel = "debug" | "info" | "warning" | "error";

export interface LogRecord {
  seq: number;
  time: number;
  level: LogLevel | string;
  message: string;
  fields: Record<string, unknown>;
}

export interface User {
  id: number;
  username: string;
  roles: string[];
  permissions: string[];
}

export type ServerStatus = "stopped" | "starting" | "running" | "stopping" | string;

export interface Server {
  id: number;
  name: string;
  game: string;
  node: string;
  status: ServerStatus;
  ownerId: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface ServerList {
  items: Server[];
  total: number;
}

/** What the host pushes over `/ws`. */
export interface SocketMessage<T = unknown> {
  type: string;
  data?: T;
}

export interface PluginsUpdated {
  name: string;
  reason: "state" | "reload" | "config" | "rescan" | string;
  plugin: PluginSummary | null;
}

export interface PluginLogPush {
  name: string;
  record: LogRecord;
}

export interface ServersUpdated {
  event: string;
  server: Server;
}
