// Checking what a plugin module default-exports, for the in-page loader and the sandbox alike.

import type { Contributions, PageContribution, PluginComponent, TabContribution } from "./types";

export function isComponent(value: unknown): value is PluginComponent {
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

