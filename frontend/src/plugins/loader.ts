// Loading plugin frontend modules at run time: the host imports each enabled plugin's
// `frontend.entry`, served by the backend at `/api/plugins/<name>/frontend/<file>?v=<loadedAt>`,
// with a dynamic `import()`. Nothing is bundled, so installing or reloading a plugin never
// rebuilds the host UI; the `v` parameter makes a reloaded plugin's new code load.
// Only in-process (trusted) plugins are imported into the admin page; every other plugin's module
// runs in sandboxed frames (see ./sandbox/importer.ts).

import type { QueryClient } from "@tanstack/react-query";
import { pluginDetailQuery } from "../lib/queries";
import type { PluginSummary } from "../lib/types";
import { isSandboxed, sandboxImporter, type SandboxImporter } from "./sandbox/importer";
import { usePluginStore } from "./store";
import { EMPTY_CONTRIBUTIONS } from "./types";

import { normalizeContributions } from "./contributions";

export { normalizeContributions };

export type ModuleImporter = (url: string) => Promise<unknown>;
export type EntryResolver = (plugin: PluginSummary) => Promise<string | null>;

/** The browser's own `import()`; `@vite-ignore` keeps Vite from trying to bundle it. */
export const browserImporter: ModuleImporter = (url) => import(/* @vite-ignore */ url);

/** The entry from the list item when the backend includes it, else from the (cached) detail query. */
export function detailEntryResolver(client: QueryClient): EntryResolver {
  return async (plugin) => {
    if (plugin.frontendEntry !== undefined) return plugin.frontendEntry;
    const detail = await client.fetchQuery(pluginDetailQuery(plugin.name));
    return detail.frontendEntry;
  };
}

/** Only enabled plugins that declare a frontend contribute UI. */
export function wantsFrontend(plugin: PluginSummary): boolean {
  return plugin.enabled && plugin.status === "enabled" && plugin.hasFrontend;
}

/** Changes whenever the plugin's code is (re)loaded by the backend. */
export function moduleKey(plugin: PluginSummary): string {
  return plugin.loadedAt ?? plugin.version;
}

export function moduleUrl(name: string, entry: string, key: string): string {
  const file = entry.split("/").filter(Boolean).pop() ?? entry;
  return `/api/plugins/${encodeURIComponent(name)}/frontend/${encodeURIComponent(file)}?v=${encodeURIComponent(key)}`;
}

export interface SyncOptions {
  /** Imports in-process plugins' modules into the page. */
  importer?: ModuleImporter;
  /** Loads every other plugin's module into sandboxed frames. */
  sandboxImporter?: SandboxImporter;
  /** Where a plugin's entry is read when its list item lacks it (see detailEntryResolver). */
  resolveEntry: EntryResolver;
}

/**
 * Bring the loaded modules in line with `plugins` (the plugin list): import the modules of plugins that
 * newly contribute (or were reloaded: a new `loadedAt`), and drop those of plugins that were
 * disabled, failed or removed. Resolves when every import it started has settled.
 */
export async function syncPluginModules(
  plugins: readonly PluginSummary[],
  options: SyncOptions,
): Promise<void> {
  const inPage = options.importer ?? browserImporter;
  const sandboxed = options.sandboxImporter ?? sandboxImporter;
  const { resolveEntry } = options;
  const store = usePluginStore.getState();
  const wanted = new Map(plugins.filter(wantsFrontend).map((p) => [p.name, p]));

  for (const name of Object.keys(store.modules)) {
    if (!wanted.has(name)) store.removeModule(name);
  }
  const loads: Promise<void>[] = [];
  for (const plugin of wanted.values()) {
    const key = moduleKey(plugin);
    const current = usePluginStore.getState().modules[plugin.name];
    if (current && current.key === key) continue;
    const importer: ModuleImporter = isSandboxed(plugin) ? (url) => sandboxed(plugin, url) : inPage;
    loads.push(loadModule(plugin, key, importer, resolveEntry));
  }
  await Promise.all(loads);
}

async function loadModule(
  plugin: PluginSummary,
  key: string,
  importer: ModuleImporter,
  resolveEntry: EntryResolver,
): Promise<void> {
  const { name } = plugin;
  const previous = usePluginStore.getState().modules[name];
  // Keep showing the previous version's UI while the new one loads.
  usePluginStore.getState().setModule(name, {
    key,
    url: previous?.url ?? null,
    status: "loading",
    contributions: previous?.contributions ?? EMPTY_CONTRIBUTIONS,
    error: null,
    warnings: [],
    generation: previous?.generation ?? 0,
  });
  const stillWanted = () => usePluginStore.getState().modules[name]?.key === key;
  let url: string | null = null;
  try {
    const entry = await resolveEntry(plugin);
    if (!entry) throw new Error("The plugin declares no frontend entry");
    url = moduleUrl(name, entry, key);
    const namespace = await importer(url);
    const { contributions, warnings } = normalizeContributions(namespace);
    if (!stillWanted()) return;
    for (const warning of warnings) console.warn(`Plugin ${name}: ${warning}`);
    usePluginStore.getState().setModule(name, {
      key,
      url,
      status: "ready",
      contributions,
      error: null,
      warnings,
      generation: (previous?.generation ?? 0) + 1,
    });
  } catch (error) {
    if (!stillWanted()) return;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`Plugin ${name}: its frontend module failed to load`, error);
    usePluginStore.getState().setModule(name, {
      key,
      url,
      status: "error",
      contributions: EMPTY_CONTRIBUTIONS,
      error: message,
      warnings: [],
      generation: (previous?.generation ?? 0) + 1,
    });
  }
}
