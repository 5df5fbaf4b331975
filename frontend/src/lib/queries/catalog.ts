// GET /api/catalog: the host's permission catalogue (with what each permission allows) and the
// plugin states. It changes only with the host's version, so it is fetched once per session.

import { queryOptions, useQuery } from "@tanstack/react-query";
import { api } from "../api";
import type { Catalog } from "../types";
import { keys } from "./keys";

export function catalogQuery() {
  return queryOptions({
    queryKey: keys.catalog,
    queryFn: ({ signal }) => api<Catalog>("/api/catalog", { signal }),
    staleTime: Infinity,
  });
}

function descriptionsOf(catalog: Catalog): ReadonlyMap<string, string> {
  return new Map(catalog.permissions.map((p) => [p.name, p.description]));
}

function statesOf(catalog: Catalog): readonly string[] {
  return catalog.pluginStates;
}

/** What each permission allows, by name; undefined until the catalog has loaded. */
export function usePermissionDescriptions(): ReadonlyMap<string, string> | undefined {
  return useQuery({ ...catalogQuery(), select: descriptionsOf }).data;
}

/** Every plugin state in lifecycle order; empty until the catalog has loaded. */
export function usePluginStates(): readonly string[] {
  return useQuery({ ...catalogQuery(), select: statesOf }).data ?? NO_STATES;
}

const NO_STATES: readonly string[] = [];
