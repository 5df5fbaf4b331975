// The page of one plugin (/plugins/:name): its controls, problems and every card about it.
import { Icon } from "../../components/icons";
import { LogsCard } from "../../components/LogsCard";
import { PendingPermissions } from "../../components/PendingPermissions";
import { PluginControls } from "../../components/PluginControls";
import { StallsCard } from "../../components/StallsCard";
import { EmptyState, ErrorNotice, PageHeader, Spinner, StatusBadge } from "../../components/ui";
import { ApiError } from "../../lib/api";
import { pluginTitle } from "../../lib/format";
import { usePluginDetail } from "../../lib/queries";
import { Link } from "../../lib/router";
import { ConfigCard } from "./ConfigCard";
import { DependenciesCard } from "./DependenciesCard";
import { InstancesCard } from "./InstancesCard";
import { Overview } from "./Overview";
import { Problems } from "./Problems";
import { RealtimeCard } from "./RealtimeCard";
import { RoutesCard } from "./RoutesCard";
import { RuntimeCard } from "./RuntimeCard";
import { TasksCard } from "./TasksCard";

/** How often the page asks again while open (the instances' state and code versions). */
export const INSTANCES_REFRESH_MS = 10_000;

export function PluginDetailPage({ name }: { name: string }) {
  // Polled too: other instances' rows change without a push to this one.
  const query = usePluginDetail(name, INSTANCES_REFRESH_MS);
  const back = (
    <Link to="/plugins" className="back-link">
      <Icon name="back" size={16} /> Plugins
    </Link>
  );
  if (query.isPending) return <Spinner label="Loading the plugin" />;
  if (query.isError) {
    if (query.error instanceof ApiError && query.error.status === 404) {
      return (
        <>
          {back}
          <EmptyState title={`No plugin named “${name}”`}>It may have been removed from the plugins folder.</EmptyState>
        </>
      );
    }
    return (
      <>
        {back}
        <ErrorNotice title="Could not load the plugin" error={query.error} onRetry={() => void query.refetch()} />
      </>
    );
  }
  const plugin = query.data;
  return (
    <div className="page" data-testid="plugin-detail" data-plugin={plugin.name}>
      <PageHeader
        back={back}
        title={
          <span className="row-gap">
            {pluginTitle(plugin)} <StatusBadge status={plugin.status} />
          </span>
        }
        subtitle={
          <>
            <code>{plugin.name}</code> · v{plugin.version} · by {plugin.author}
          </>
        }
        actions={<PluginControls plugin={plugin} />}
      />
      <PendingPermissions plugin={plugin} />
      <Problems plugin={plugin} />
      <div className="detail-layout">
        <div className="stack">
          <Overview plugin={plugin} />
          <RuntimeCard plugin={plugin} />
          <RealtimeCard plugin={plugin} />
          <DependenciesCard plugin={plugin} />
        </div>
        <div className="stack">
          <ConfigCard plugin={plugin} />
          <RoutesCard plugin={plugin} />
        </div>
      </div>
      <div className="stack">
        <InstancesCard plugin={plugin} />
        <TasksCard plugin={plugin} />
        <StallsCard stalls={plugin.stalls} />
        <LogsCard name={plugin.name} />
      </div>
    </div>
  );
}
