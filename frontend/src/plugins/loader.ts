// Loading plugin frontend modules at run time: the host imports each enabled plugin's
// `frontend.entry`, served by the backend at `/api/plugins/<name>/frontend/<file>?v=<loadedAt>`,
// with a dynamic `import()`. Nothing is bundled, so installing or reloading a plugin never
// rebuilds the host UI; the `v` parameter makes a reloaded plugin's new code load.

import type { QueryClient } from "@tanstack/react-query";
import { pluginDetailQuery } from "../lib/queries";
import type { PluginSummary } from "../lib/types";
import { usePluginStore } from "./store";
import {
  EMPTY_CONTRIBUTIONS,
  type Contributions,
  type PageContribution,
  type PluginComponent,
  type TabContribution,
} from "./types";

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

function isComponent(value: unknown): value is PluginComponent {
  // A function component or class, or an exotic one (memo, forwardRef, lazy) which is an object.
  return (
    typeof value === "function" ||
    (typeof value === "object" && value !== null && "$$typeof" in (value))
  );
}

function stringList(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
  return undefined;
}

/**
 * Check a module's exports and keep what is well-formed. Malformed entries are skipped with a
 * warning naming them; a module without a default export object is an error.
 */
export function normalizeContributions(moduleNamespace: unknown): {
  contributions: Contributions;
  warnings: string[];
} {
  const ns = moduleNamespace as Record<string, unknown> | null;
  const exported = ns && typeof ns === "object" && "default" in ns ? ns.default : undefined;
  if (!exported || typeof exported !== "object" || Array.isArray(exported)) {
    throw new Error(
      "The module must default-export an object of contributions: { tabs, pages, slots }",
    );
  }
  const raw = exported as Record<string, unknown>;
  const warnings: string[] = [];
  const tabs: TabContribution[] = [];
  const pages: PageContribution[] = [];
  const slots: Record<string, PluginComponent[]> = {};

  if (raw.tabs !== undefined && !Array.isArray(raw.tabs)) warnings.push("tabs: expected an array");
  const seenTabs = new Set<string>();
  (Array.isArray(raw.tabs) ? raw.tabs : []).forEach((item: unknown, i) => {
    const tab = (item ?? {}) as Record<string, unknown>;
    const where = `tabs[${i}]`;
    const location = tab.location ?? "admin";
    const required = stringList(tab.requiredPermissions);
    if (typeof tab.id !== "string" || !tab.id) return warnings.push(`${where}: needs a string id`);
    if (typeof tab.label !== "string" || !tab.label) return warnings.push(`${where}: needs a label`);
    if (location !== "admin" && location !== "server")
      return warnings.push(`${where}: location must be "admin" or "server"`);
    if (!isComponent(tab.component)) return warnings.push(`${where}: component is not a React component`);
    if (tab.requiredPermissions !== undefined && !required)
      return warnings.push(`${where}: requiredPermissions must be a list of strings`);
    const unique = `${location}/${tab.id}`;
    if (seenTabs.has(unique)) return warnings.push(`${where}: duplicate id "${tab.id}"`);
    seenTabs.add(unique);
    tabs.push({
      id: tab.id,
      label: tab.label,
      location,
      requiredPermissions: required ?? [],
      order: typeof tab.order === "number" ? tab.order : 0,
      component: tab.component,
    });
    return undefined;
  });

  if (raw.pages !== undefined && !Array.isArray(raw.pages)) warnings.push("pages: expected an array");
  (Array.isArray(raw.pages) ? raw.pages : []).forEach((item: unknown, i) => {
    const page = (item ?? {}) as Record<string, unknown>;
    const where = `pages[${i}]`;
    const required = stringList(page.requiredPermissions);
    if (typeof page.path !== "string" || !page.path) return warnings.push(`${where}: needs a path`);
    if (!isComponent(page.component)) return warnings.push(`${where}: component is not a React component`);
    pages.push({
      path: page.path.replace(/^\/+|\/+$/g, ""),
      title: typeof page.title === "string" ? page.title : undefined,
      requiredPermissions: required ?? [],
      component: page.component,
    });
    return undefined;
  });

  if (raw.slots !== undefined) {
    if (typeof raw.slots !== "object" || raw.slots === null || Array.isArray(raw.slots)) {
      warnings.push("slots: expected an object { slotName: Component }");
    } else {
      for (const [slot, value] of Object.entries(raw.slots as Record<string, unknown>)) {
        const list = Array.isArray(value) ? value : [value];
        const good = list.filter(isComponent);
        if (good.length !== list.length) warnings.push(`slots.${slot}: not a React component`);
        if (good.length) slots[slot] = good;
      }
    }
  }
  return { contributions: { tabs, pages, slots }, warnings };
}

export interface SyncOptions {
  importer?: ModuleImporter;
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
  const importer = options.importer ?? browserImporter;
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
