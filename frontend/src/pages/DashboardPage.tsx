import { Icon, type IconName } from "../components/icons";
import { Card, StatusBadge } from "../components/ui";
import { pluginTitle } from "../lib/format";
import { hasPermission } from "../lib/permissions";
import { usePluginList, useServers } from "../lib/queries";
import { Link } from "../lib/router";
import { PluginSlot } from "../plugins/PluginView";
import { useCurrentUser } from "../state/auth";
import "./DashboardPage.css";

function Stat({ label, value, hint, icon, to }: { label: string; value: string | number; hint?: string; icon: IconName; to: string }) {
  return (
    <Link to={to} className="stat card">
      <span className="stat__icon" aria-hidden="true">
        <Icon name={icon} size={20} />
      </span>
      <span className="stat__text">
        <span className="stat__label">{label}</span>
        <span className="stat__value">{value}</span>
        {hint ? <span className="stat__hint">{hint}</span> : null}
      </span>
    </Link>
  );
}

function PluginStats() {
  const plugins = usePluginList();
  const list = plugins.data ?? [];
  const enabled = list.filter((p) => p.status === "enabled").length;
  const failing = list.filter((p) => p.status === "error" || p.reloadError);
  return (
    <>
      <Stat label="Plugins enabled" value={plugins.data ? `${enabled} / ${list.length}` : "…"} icon="plugins" to="/plugins" />
      <Stat
        label="Plugins needing attention"
        value={plugins.data ? failing.length : "…"}
        hint={failing.length ? failing.map(pluginTitle).join(", ") : "All healthy"}
        icon="alert"
        to="/plugins?status=error"
      />
    </>
  );
}

function ServerStats() {
  const servers = useServers();
  const items = servers.data?.items ?? [];
  const running = items.filter((s) => s.status === "running").length;
  return <Stat label="Servers running" value={servers.data ? `${running} / ${servers.data.total}` : "…"} icon="servers" to="/servers" />;
}

function RecentServers() {
  const servers = useServers();
  const items = (servers.data?.items ?? []).slice().sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, 5);
  return (
    <Card title="Recently active servers" actions={<Link to="/servers">All servers</Link>}>
      {items.length ? (
        <ul className="plain-list plain-list--rows">
          {items.map((s) => (
            <li key={s.id}>
              <Link to={`/servers/${s.id}`}>{s.name}</Link>
              <span className="muted small">{s.game}</span>
              <StatusBadge status={s.status} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No servers yet.</p>
      )}
    </Card>
  );
}

function PluginHealth() {
  const plugins = usePluginList();
  const list = plugins.data ?? [];
  return (
    <Card title="Plugins" actions={<Link to="/plugins">Manage</Link>}>
      {list.length ? (
        <ul className="plain-list plain-list--rows">
          {list.map((p) => (
            <li key={p.name}>
              <Link to={`/plugins/${encodeURIComponent(p.name)}`}>{pluginTitle(p)}</Link>
              <span className="muted small">v{p.version}</span>
              <StatusBadge status={p.status} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{plugins.isPending ? "Loading…" : "No plugins installed."}</p>
      )}
    </Card>
  );
}

export function DashboardPage() {
  const user = useCurrentUser();
  const isAdmin = hasPermission(user?.permissions, "admin.read");
  const canServers = hasPermission(user?.permissions, "server.read");
  return (
    <>
      <div className="page-header">
        <div>
          <h1 className="page-title">Welcome back, {user?.username}</h1>
          <div className="page-subtitle">An overview of your panel.</div>
        </div>
      </div>
      <div className="stats">
        {canServers ? <ServerStats /> : null}
        {isAdmin ? <PluginStats /> : null}
      </div>
      <div className="widgets">
        {canServers ? <RecentServers /> : null}
        {isAdmin ? <PluginHealth /> : null}
        <PluginSlot name="dashboard.widgets" className="contents" />
      </div>
    </>
  );
}
