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

/** What a permission of the host's catalogue allows. */
export interface PermissionInfo {
  name: string;
  description: string;
}

/** GET /api/catalog: the host's permission catalogue and every plugin state, in lifecycle order. */
export interface Catalog {
  permissions: PermissionInfo[];
  pluginStates: PluginStatus[];
}

export interface ManifestProblem {
  path: string;
  message: string;
}

export interface ReloadError {
  message: string;
  traceback?: string | null;
  at?: string | null;
}

export interface HookError {
  hook: string;
  message: string;
  traceback: string | null;
  at: string;
}

export interface HookOverrun {
  hook: string;
  since: string;
  timeoutS: number;
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
  /** Accepted only for compatibility with the original system (unknown keys, its permission names). */
  warnings?: ManifestProblem[];
  reloadError: ReloadError | null;
  permissions: string[];
  grantedPermissions: string[];
  /** Requested by a newer version but not granted: waits for an admin's consent. */
  pendingPermissions?: string[];
  /** An exit hook (on_disable) that failed although the plugin was disabled. */
  hookError?: HookError | null;
  /** Sync hook threads still running after their timeout. */
  hookOverruns?: HookOverrun[];
  /** Set on the answer to a disable whose on_disable failed. */
  warning?: string;
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
  | "password"
  | "array"
  | "object";

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

/** An account as `/api/users` shows it (never a password hash). */
export interface Account {
  id: number;
  username: string;
  roles: string[];
  permissions: string[];
  enabled: boolean;
  /** Enabled and holding `*`: the host never lets the last of these go. */
  admin: boolean;
  createdAt: string;
}

export interface AccountList {
  items: Account[];
  total: number;
}

/** A created account or a reset password; `password` only when the server generated it. */
export interface AccountWithPassword {
  user: Account;
  password: string | null;
}

export interface RoleInfo {
  name: string;
  description: string;
  permissions: string[];
  builtin: boolean;
  users?: number;
}

export interface RoleList {
  items: RoleInfo[];
  /** Every permission a role may grant, with what it allows. */
  catalog: Record<string, string>;
}

export interface AuditEntry {
  id: number;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
  createdAt: string;
}

export interface AuditPage {
  items: AuditEntry[];
  total: number;
  nextCursor: number | null;
}
