import { Icon } from "../components/icons";
import { Card, EmptyState, ErrorNotice, PageHeader, Spinner, StatusBadge } from "../components/ui";
import { formatDateTime } from "../lib/format";
import { hasPermission } from "../lib/permissions";
import { useServers } from "../lib/queries";
import { Link, navigate, useSearchParams } from "../lib/router";
import { usePluginTabs } from "../plugins/hooks";
import { PluginSlot, PluginView } from "../plugins/PluginView";
import { useCurrentUser } from "../state/auth";
import { ServerActions } from "./ServersPage";
import "./ServerDetailPage.css";

/** One server: its facts, the tabs plugins add for servers, and the `server.sidebar` slot. */
export function ServerDetailPage({ id }: { id: number }) {
  const query = useServers();
  const user = useCurrentUser();
  const tabs = usePluginTabs("server");
  const params = useSearchParams();
  const current = params.get("tab") ?? "";
  const back = (
    <Link to="/servers" className="back-link">
      <Icon name="back" size={16} /> Servers
    </Link>
  );
  if (query.isPending) return <Spinner label="Loading the server" />;
  if (query.isError) return <ErrorNotice error={query.error} onRetry={() => void query.refetch()} />;
  const server = query.data.items.find((s) => s.id === id);
  if (!server) {
    return (
      <>
        {back}
        <EmptyState title="No such server" icon="servers">
          It may have been deleted.
        </EmptyState>
      </>
    );
  }
  const active = tabs.find((t) => t.key === current);
  const select = (key: string) => navigate(`/servers/${id}${key ? `?tab=${encodeURIComponent(key)}` : ""}`, { replace: true });
  return (
    <>
      <PageHeader
        back={back}
        title={
          <span className="row-gap">
            {server.name} <StatusBadge status={server.status} />
          </span>
        }
        subtitle={`${server.game} on ${server.node}`}
        actions={<ServerActions server={server} canWrite={hasPermission(user?.permissions, "server.write")} />}
      />
      <div className="with-aside">
        <div className="stack">
          <div className="tabs" role="tablist" aria-label="Server sections">
            <button type="button" role="tab" aria-selected={!active} className="tabs__tab" onClick={() => select("")}>
              Overview
            </button>
            {tabs.map((tab) => (
              <button
                key={tab.key}
                type="button"
                role="tab"
                aria-selected={active?.key === tab.key}
                className="tabs__tab"
                onClick={() => select(tab.key)}
              >
                {tab.label}
              </button>
            ))}
          </div>
          <div role="tabpanel">
            {active ? (
              <PluginView
                plugin={active.plugin}
                displayName={active.pluginDisplayName}
                area={`tab “${active.label}”`}
                generation={active.generation}
                component={active.component}
                props={{ server }}
              />
            ) : (
              <Card title="Overview">
                <dl className="props">
                  <div className="props__row">
                    <dt>Id</dt>
                    <dd>#{server.id}</dd>
                  </div>
                  <div className="props__row">
                    <dt>Game</dt>
                    <dd>{server.game}</dd>
                  </div>
                  <div className="props__row">
                    <dt>Node</dt>
                    <dd>{server.node}</dd>
                  </div>
                  <div className="props__row">
                    <dt>Created</dt>
                    <dd>{formatDateTime(server.createdAt)}</dd>
                  </div>
                  <div className="props__row">
                    <dt>Updated</dt>
                    <dd>{formatDateTime(server.updatedAt)}</dd>
                  </div>
                </dl>
              </Card>
            )}
          </div>
        </div>
        <aside className="stack" aria-label="Server extras">
          <PluginSlot name="server.sidebar" props={{ server }} className="stack" />
        </aside>
      </div>
    </>
  );
}
