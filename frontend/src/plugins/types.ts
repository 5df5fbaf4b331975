import type { ComponentType } from "react";
import type { Server } from "../lib/types";

export type TabLocation = "admin" | "server";

/** Props the host passes to every plugin component. */
export interface PluginComponentProps {
  /** The contributing plugin's name, e.g. "example-plugin". */
  plugin: string;
  /** For server tabs and `server.*` slots: the server being shown. */
  server?: Server;
  [key: string]: unknown;
}

// Plugin modules are plain JavaScript: their components may take any props.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PluginComponent = ComponentType<any>;

export interface TabContribution {
  id: string;
  label: string;
  location: TabLocation;
  /** Every one of these must be granted to the user (wildcards `*`, `x.*` count). */
  requiredPermissions?: string[];
  /** Lower first; then by label. */
  order?: number;
  component: PluginComponent;
}

export interface PageContribution {
  /** Served at `/ext/<plugin>/page/<path>`. */
  path: string;
  title?: string;
  requiredPermissions?: string[];
  component: PluginComponent;
}

/** What a plugin's frontend module default-exports. */
export interface PluginModuleExports {
  tabs?: TabContribution[];
  pages?: PageContribution[];
  slots?: Record<string, PluginComponent | PluginComponent[]>;
}

/** The validated contributions of one loaded module. */
export interface Contributions {
  tabs: TabContribution[];
  pages: PageContribution[];
  slots: Record<string, PluginComponent[]>;
}

export type ModuleStatus = "loading" | "ready" | "error";

export interface PluginModuleState {
  /** The plugin's `loadedAt` when the module was imported: a new one means re-import. */
  key: string;
  url: string | null;
  status: ModuleStatus;
  contributions: Contributions;
  error: string | null;
  /** Contributions that were skipped because they were malformed. */
  warnings: string[];
  /** Increases on every successful import, so components remount after a reload. */
  generation: number;
}

export interface ResolvedTab extends TabContribution {
  plugin: string;
  pluginDisplayName: string;
  /** Unique and stable: `<plugin>/<id>`. */
  key: string;
  generation: number;
}

export interface ResolvedPage extends PageContribution {
  plugin: string;
  pluginDisplayName: string;
  key: string;
  generation: number;
}

export interface ResolvedSlot {
  plugin: string;
  pluginDisplayName: string;
  key: string;
  component: PluginComponent;
  generation: number;
}

export const EMPTY_CONTRIBUTIONS: Contributions = Object.freeze({
  tabs: [],
  pages: [],
  slots: {},
});
