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

/** What each permission of the host catalog allows, shown in the consent dialog. */
export const PERMISSION_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "admin.read": "See plugins, their configuration, logs and the audit log",
  "admin.write": "Install, enable, disable, reload and configure plugins",
  "server.read": "See game servers",
  "server.write": "Create, start, stop and delete game servers",
  "user.read": "See user accounts (never password hashes)",
  "user.write": "Create and change user accounts",
  "http.public": "Serve HTTP routes to callers who are not logged in",
};
