// Permission strings with wildcards, as the host checks them (src/catalyst/auth/permissions.py):
// `*` grants everything, `server.*` grants `server.read` and `server.console.read`.

export function grants(granted: string, required: string): boolean {
  if (granted === "*" || granted === required) return true;
  if (granted.endsWith(".*")) return required.startsWith(granted.slice(0, -1));
  return false;
}

export function hasPermission(granted: readonly string[] | undefined, required: string): boolean {
  return (granted ?? []).some((g) => grants(g, required));
}

export function hasAll(granted: readonly string[] | undefined, required: readonly string[] | undefined): boolean {
  return (required ?? []).every((r) => hasPermission(granted, r));
}

/**
 * True when `granted` holds each of `grants` as the host counts it for handing out roles: a
 * wildcard grant is held only by an equal or a wider one (`*` holds everything).
 */
export function holdsAll(granted: readonly string[] | undefined, grants: readonly string[]): boolean {
  return grants.every((g) => hasPermission(granted, g));
}
