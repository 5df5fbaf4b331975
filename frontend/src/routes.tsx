// The one route table: the router (Routes in App.tsx), the page titles and the sidebar's
// navigation all read it. The first route whose pattern matches the path wins.
import { useEffect, type ReactNode } from "react";
import type { IconName } from "./components/icons";
import { matchPath, navigate } from "./lib/router";
import { AuditPage } from "./pages/AuditPage";
import { DashboardPage } from "./pages/DashboardPage";
import { PluginDetailPage } from "./pages/plugin-detail/PluginDetailPage";
import { PluginsPage } from "./pages/PluginsPage";
import { PluginPagePage, PluginTabPage } from "./pages/PluginTabPage";
import { ServerDetailPage } from "./pages/ServerDetailPage";
import { ServersPage } from "./pages/ServersPage";
import { UsersPage } from "./pages/UsersPage";

export type Params = Record<string, string>;

export interface NavEntry {
  section: "Panel" | "Admin";
  label: string;
  icon: IconName;
  /** Active only on this exact path (not on the paths below it). */
  exact?: boolean;
}

export interface RouteDef {
  /** A `matchPath` pattern: `/plugins/:name`, `/ext/:plugin/page/*`. */
  path: string;
  /** The page's title (`<title> · Catalyst`); none for a redirect. */
  title?: string;
  /** The permission needed to see the page; others get "Not allowed". */
  permission?: string;
  /** What the page shows, for "Your account may not see …". */
  subject?: string;
  /** Extra check of the parameters; the route does not match when it fails. */
  accepts?: (params: Params) => boolean;
  render: (params: Params) => ReactNode;
  /** Listed in the sidebar (for users with `permission`). */
  nav?: NavEntry;
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export const ROUTES: readonly RouteDef[] = [
  {
    path: "/",
    title: "Dashboard",
    render: () => <DashboardPage />,
    nav: { section: "Panel", label: "Dashboard", icon: "dashboard", exact: true },
  },
  { path: "/login", render: () => <Redirect to="/" /> },
  {
    path: "/plugins",
    title: "Plugins",
    permission: "admin.read",
    subject: "plugins",
    render: () => <PluginsPage />,
    nav: { section: "Admin", label: "Plugins", icon: "plugins" },
  },
  {
    path: "/plugins/:name",
    title: "Plugin",
    permission: "admin.read",
    subject: "plugins",
    render: ({ name }) => <PluginDetailPage key={name} name={name} />,
  },
  {
    path: "/servers",
    title: "Servers",
    permission: "server.read",
    subject: "servers",
    render: () => <ServersPage />,
    nav: { section: "Panel", label: "Servers", icon: "servers" },
  },
  {
    path: "/servers/:id",
    title: "Server",
    accepts: ({ id }) => /^\d+$/.test(id),
    render: ({ id }) => <ServerDetailPage id={Number(id)} />,
  },
  {
    path: "/users",
    title: "Users",
    permission: "user.read",
    subject: "user accounts",
    render: () => <UsersPage />,
    nav: { section: "Admin", label: "Users", icon: "users" },
  },
  {
    path: "/audit",
    title: "Audit log",
    permission: "admin.read",
    subject: "the audit log",
    render: () => <AuditPage />,
    nav: { section: "Admin", label: "Audit log", icon: "audit" },
  },
  {
    path: "/ext/:plugin/page/*",
    title: "Extension",
    render: ({ plugin, "*": path }) => <PluginPagePage plugin={plugin} path={path} />,
  },
  {
    path: "/ext/:plugin/:tab",
    title: "Extension",
    render: ({ plugin, tab }) => <PluginTabPage plugin={plugin} tabId={tab} />,
  },
];

export const NAV_SECTIONS = ["Panel", "Admin"] as const;

/** The route a path shows, with its parameters; null for "Page not found". */
export function findRoute(
  pathname: string,
  routes: readonly RouteDef[] = ROUTES,
): { route: RouteDef; params: Params } | null {
  for (const route of routes) {
    const params = matchPath(route.path, pathname === "" ? "/" : pathname);
    if (params && (!route.accepts || route.accepts(params))) return { route, params };
  }
  return null;
}

export function documentTitle(route: RouteDef | null | undefined): string {
  return route?.title ? `${route.title} · Catalyst` : "Catalyst";
}
