import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Layout } from "./components/Layout";
import { EmptyState, Spinner } from "./components/ui";
import { useSocket } from "./live/SocketContext";
import { useLiveUpdates } from "./live/useLiveUpdates";
import { hasPermission } from "./lib/permissions";
import { Link, usePathname } from "./lib/router";
import { PluginProvider } from "./plugins/PluginProvider";
import { LoginPage } from "./pages/LoginPage";
import { documentTitle, findRoute } from "./routes";
import { useAuthStore } from "./state/auth";

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
  const found = findRoute(pathname);
  const title = documentTitle(found?.route);
  useEffect(() => {
    document.title = title;
  }, [title]);

  if (!found) return <NotFound />;
  const { route, params } = found;
  if (route.permission && !hasPermission(user?.permissions, route.permission))
    return <Forbidden what={route.subject ?? "this page"} />;
  return route.render(params);
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
