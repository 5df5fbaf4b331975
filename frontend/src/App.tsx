import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Layout } from "./components/Layout";
import { EmptyState, Spinner } from "./components/ui";
import { useSocket } from "./live/SocketContext";
import { useLiveUpdates } from "./live/useLiveUpdates";
import { hasPermission } from "./lib/permissions";
import { Link, matchPath, navigate, usePathname } from "./lib/router";
import { PluginProvider } from "./plugins/PluginProvider";
import { DashboardPage } from "./pages/DashboardPage";
import { LoginPage } from "./pages/LoginPage";
import { PluginDetailPage } from "./pages/PluginDetailPage";
import { AuditPage } from "./pages/AuditPage";
import { PluginsPage } from "./pages/PluginsPage";
import { PluginPagePage, PluginTabPage } from "./pages/PluginTabPage";
import { ServerDetailPage } from "./pages/ServerDetailPage";
import { ServersPage } from "./pages/ServersPage";
import { UsersPage } from "./pages/UsersPage";
import { useAuthStore } from "./state/auth";

const TITLES: [string, string][] = [
  ["/plugins/:name", "Plugin"],
  ["/plugins", "Plugins"],
  ["/servers/:id", "Server"],
  ["/servers", "Servers"],
  ["/users", "Users"],
  ["/audit", "Audit log"],
  ["/ext/*", "Extension"],
  ["/", "Dashboard"],
];

function NotFound() {
  return (
    <EmptyState title="Page not found" icon="alert">
      Nothing lives at this address. <Link to="/">Go to the dashboard</Link>
    </EmptyState>
  );
}

function Forbidden({ what }: { what: string }) {
  return (
    <EmptyState title="Not allowed" icon="alert">
      Your account may not see {what}.
    </EmptyState>
  );
}

export function Routes() {
  const pathname = usePathname();
  const user = useAuthStore((s) => s.user);
  const can = (p: string) => hasPermission(user?.permissions, p);
  useEffect(() => {
    const title = TITLES.find(([pattern]) => matchPath(pattern, pathname))?.[1];
    document.title = title ? `${title} · Catalyst` : "Catalyst";
  }, [pathname]);

  let m: Record<string, string> | null;
  if (pathname === "/" || pathname === "") return <DashboardPage />;
  if (matchPath("/login", pathname)) {
    navigate("/", { replace: true });
    return null;
  }
  if (matchPath("/plugins", pathname)) return can("admin.read") ? <PluginsPage /> : <Forbidden what="plugins" />;
  if ((m = matchPath("/plugins/:name", pathname)))
    return can("admin.read") ? <PluginDetailPage key={m.name} name={m.name} /> : <Forbidden what="plugins" />;
  if (matchPath("/servers", pathname)) return can("server.read") ? <ServersPage /> : <Forbidden what="servers" />;
  if ((m = matchPath("/servers/:id", pathname)) && /^\d+$/.test(m.id)) return <ServerDetailPage id={Number(m.id)} />;
  if (matchPath("/users", pathname)) return can("user.read") ? <UsersPage /> : <Forbidden what="user accounts" />;
  if (matchPath("/audit", pathname)) return can("admin.read") ? <AuditPage /> : <Forbidden what="the audit log" />;
  if ((m = matchPath("/ext/:plugin/page/*", pathname))) return <PluginPagePage plugin={m.plugin} path={m["*"]} />;
  if ((m = matchPath("/ext/:plugin/:tab", pathname))) return <PluginTabPage plugin={m.plugin} tabId={m.tab} />;
  return <NotFound />;
}

function Authenticated() {
  const socket = useSocket();
  const user = useAuthStore((s) => s.user);
  useLiveUpdates(socket);
  useEffect(() => {
    // A 4401 close means the session is gone: ask the server, which shows the login if so.
    const off = socket.onAuthFailure(() => void useAuthStore.getState().check());
    socket.start();
    return () => {
      off();
      socket.stop();
    };
  }, [socket]);
  return (
    <PluginProvider socket={socket} user={user}>
      <Layout>
        <Routes />
      </Layout>
    </PluginProvider>
  );
}

export function App() {
  const status = useAuthStore((s) => s.status);
  const check = useAuthStore((s) => s.check);
  const client = useQueryClient();

  useEffect(() => {
    void check();
  }, [check]);

  // Nothing of one session's data may show in the next one.
  useEffect(() => {
    if (status === "anonymous") client.clear();
  }, [status, client]);

  if (status === "unknown") {
    return (
      <div className="boot">
        <Spinner label="Starting Catalyst" />
      </div>
    );
  }
  if (status === "anonymous") return <LoginPage />;
  return <Authenticated />;
}
