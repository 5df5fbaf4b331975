import type { ReactNode } from "react";
import { ConfigForm } from "../components/ConfigForm";
import { Icon } from "../components/icons";
import { LogsCard } from "../components/LogsCard";
import { PendingPermissions } from "../components/PendingPermissions";
import { StallsCard } from "../components/StallsCard";
import { PermissionChips, PluginControls } from "../components/PluginControls";
import {
  Badge,
  Button,
  Card,
  EmptyState,
  ErrorNotice,
  ManifestWarnings,
  PageHeader,
  ProblemList,
  Spinner,
  StatusBadge,
} from "../components/ui";
import { ApiError, errorMessage } from "../lib/api";
import { errorHeadline, formatDateTime, formatDuration, formatRelative, pluginTitle } from "../lib/format";
import { usePluginDetail, useRunTask, useSaveConfig } from "../lib/queries";
import { Link } from "../lib/router";
import type { PluginDetail, PluginTask } from "../lib/types";
import { usePluginModule } from "../plugins/hooks";
import { toast } from "../state/toasts";

function Traceback({ text, summary = "Traceback" }: { text: string | null | undefined; summary?: string }) {
  if (!text) return null;
  return (
    <details className="traceback">
      <summary>{summary}</summary>
      <pre>{text}</pre>
    </details>
  );
}

function Problems({ plugin }: { plugin: PluginDetail }) {
  const module = usePluginModule(plugin.name);
  const items = [];
  if (plugin.status === "error" || plugin.error) {
    items.push(
      <div className="notice notice--danger notice--block" role="alert" key="error" data-testid="plugin-error-detail">
        <div className="notice__title">
          <Icon name="alert" /> {plugin.status === "error" ? "The plugin is in error" : "Last error"}
        </div>
        <div>{errorHeadline(plugin.error, plugin.errors) ?? "Unknown error"}</div>
        <ProblemList problems={plugin.errors} />
        <Traceback text={plugin.errorDetail} />
      </div>,
    );
  }
  if (plugin.reloadError) {
    items.push(
      <div className="notice notice--warning notice--block" role="alert" key="reload" data-testid="plugin-reload-error">
        <div className="notice__title">
          <Icon name="alert" /> The last reload failed {plugin.reloadError.at ? formatRelative(plugin.reloadError.at) : ""}
        </div>
        <div>{plugin.reloadError.message}</div>
        <div className="muted small">The previous version keeps serving until a reload succeeds.</div>
        <Traceback text={plugin.reloadError.traceback} />
      </div>,
    );
  }
  if (plugin.hookError) {
    items.push(
      <div className="notice notice--warning notice--block" role="alert" key="hook" data-testid="plugin-hook-error">
        <div className="notice__title">
          <Icon name="alert" /> Its {plugin.hookError.hook} hook failed {formatRelative(plugin.hookError.at)}
        </div>
        <div>{plugin.hookError.message}</div>
        <Traceback text={plugin.hookError.traceback} />
      </div>,
    );
  }
  if (plugin.hookOverruns?.length) {
    items.push(
      <div className="notice notice--warning notice--block" role="status" key="overruns" data-testid="plugin-hook-overruns">
        <div className="notice__title">
          <Icon name="alert" /> A hook thread is still running after its timeout
        </div>
        <div>
          {plugin.hookOverruns.map((o) => `${o.hook} (since ${formatRelative(o.since)})`).join(", ")}. Python cannot stop
          a thread: it ends when the plugin's code returns.
        </div>
      </div>,
    );
  }
  if (module?.status === "error") {
    items.push(
      <div className="notice notice--warning notice--block" role="alert" key="frontend">
        <div className="notice__title">
          <Icon name="alert" /> Its frontend module did not load
        </div>
        <div>{module.error}</div>
      </div>,
    );
  }
  if (plugin.warnings?.length) items.push(<ManifestWarnings warnings={plugin.warnings} key="warnings" />);
  return items.length ? <div className="stack">{items}</div> : null;
}

function Overview({ plugin }: { plugin: PluginDetail }) {
  const rows: [string, ReactNode][] = [
    ["Name", <code key="n">{plugin.name}</code>],
    ["Version", plugin.version],
    ["Author", plugin.author || "—"],
    ["Catalyst version", plugin.catalystVersion ? <code key="c">{plugin.catalystVersion}</code> : "—"],
    ["Loaded", plugin.loadedAt ? `${formatDateTime(plugin.loadedAt)} (${formatRelative(plugin.loadedAt)})` : "—"],
    ["Enabled since", plugin.enabledAt ? formatDateTime(plugin.enabledAt) : "—"],
    ["Installed", plugin.installedAt ? formatDateTime(plugin.installedAt) : "—"],
    [
      "Parts",
      <span key="p" className="row-gap">
        {plugin.hasBackend ? <Badge>backend</Badge> : null}
        {plugin.hasFrontend ? <Badge tone="info">frontend: {plugin.frontendEntry}</Badge> : null}
        {!plugin.hasBackend && !plugin.hasFrontend ? "—" : null}
      </span>,
    ],
  ];
  return (
    <Card title="Overview">
      <p className="lead">{plugin.description}</p>
      <dl className="props">
        {rows.map(([k, v]) => (
          <div key={k} className="props__row">
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
        <div className="props__row">
          <dt>Permissions</dt>
          <dd>
            <PermissionChips plugin={plugin} />
          </dd>
        </div>
      </dl>
    </Card>
  );
}

function ConfigCard({ plugin }: { plugin: PluginDetail }) {
  const save = useSaveConfig(plugin.name);
  const empty = Object.keys(plugin.configSchema ?? {}).length === 0;
  return (
    <Card title="Configuration" data-testid="plugin-config">
      {empty ? (
        <p className="muted">This plugin has no settings.</p>
      ) : (
        <ConfigForm
          schema={plugin.configSchema}
          config={plugin.config}
          onSave={async (changes) => {
            const result = await save.mutateAsync(changes);
            toast.success(result.message ?? "Configuration saved");
            return result;
          }}
        />
      )}
    </Card>
  );
}

function TaskRow({ plugin, task }: { plugin: PluginDetail; task: PluginTask }) {
  const run = useRunTask(plugin.name);
  return (
    <tr data-testid="task-row">
      <td>
        <div className="strong">{task.name}</div>
        <code className="muted small">{task.id}</code>
      </td>
      <td>
        <code>{task.cron}</code>
      </td>
      <td title={formatDateTime(task.nextRun)}>{task.nextRun ? formatRelative(task.nextRun) : "—"}</td>
      <td title={formatDateTime(task.lastRun)}>
        {task.lastRun ? formatRelative(task.lastRun) : "never"}
        {task.lastDuration !== null && task.lastDuration !== undefined ? (
          <div className="muted small">took {formatDuration(task.lastDuration)}</div>
        ) : null}
      </td>
      <td>
        {task.runCount ?? 0}
        {task.skippedCount ? <div className="muted small">{task.skippedCount} skipped</div> : null}
      </td>
      <td className="cell-error">{task.lastError ? <span className="text-danger">{task.lastError}</span> : <span className="muted">—</span>}</td>
      <td className="cell-actions">
        <Button
          size="small"
          icon="play"
          busy={run.isPending || task.running}
          disabled={plugin.status !== "enabled"}
          onClick={() =>
            run.mutate(task.id, {
              onSuccess: (r) =>
                toast.success(r.message === "Task ran" ? `Task ${task.name} ran` : `Task ${task.name} started; it is still running`),
              onError: (e) => toast.error(`Could not run task ${task.name}: ${errorMessage(e)}`),
            })
          }
          aria-label={`Run ${task.name} now`}
        >
          Run now
        </Button>
      </td>
    </tr>
  );
}

function TasksCard({ plugin }: { plugin: PluginDetail }) {
  return (
    <Card title="Scheduled tasks" className="span-2" data-testid="plugin-tasks">
      {plugin.tasks.length === 0 ? (
        <p className="muted">{plugin.status === "enabled" ? "No scheduled tasks." : "Tasks are registered while the plugin is enabled."}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Cron</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col">Runs</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {plugin.tasks.map((task) => (
                <TaskRow key={task.id} plugin={plugin} task={task} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function RoutesCard({ plugin }: { plugin: PluginDetail }) {
  return (
    <Card title="HTTP routes" data-testid="plugin-routes">
      {plugin.routes.length === 0 ? (
        <p className="muted">No routes registered.</p>
      ) : (
        <ul className="route-list">
          {plugin.routes.map((r) => (
            <li key={`${r.method} ${r.url}`}>
              <span className={`method method--${r.method.toLowerCase()}`}>{r.method}</span>
              <code>
                /api/plugins/{plugin.name}
                {r.url}
              </code>
              {r.public ? <Badge tone="warning">public</Badge> : null}
              {r.permission ? <Badge title="Required permission">{r.permission}</Badge> : null}
            </li>
          ))}
        </ul>
      )}
      {plugin.middleware ? <p className="muted small">{plugin.middleware} middleware wrap these routes.</p> : null}
    </Card>
  );
}

function RealtimeCard({ plugin }: { plugin: PluginDetail }) {
  const declared = Object.entries(plugin.events ?? {});
  return (
    <Card title="WebSocket & events" data-testid="plugin-realtime">
      <h3 className="subheading">WebSocket handlers</h3>
      {plugin.wsHandlers.length ? (
        <ul className="plain-list">
          {plugin.wsHandlers.map((h) => (
            <li key={h}>
              <code>{h}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">None.</p>
      )}
      <h3 className="subheading">Event subscriptions</h3>
      {plugin.listeners.length ? (
        <ul className="plain-list">
          {plugin.listeners.map((l, i) => (
            <li key={`${l.event}-${i}`}>
              <code>{l.event}</code>
              {l.errors ? (
                <span className="text-danger small" title={l.lastError ?? undefined}>
                  {" "}
                  {l.errors} error{l.errors === 1 ? "" : "s"}
                  {l.lastError ? `: ${l.lastError}` : ""}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">None.</p>
      )}
      {declared.length ? (
        <>
          <h3 className="subheading">Declared events</h3>
          <ul className="plain-list">
            {declared.map(([name, spec]) => (
              <li key={name}>
                <code>{name}</code> {spec.description ? <span className="muted small">— {spec.description}</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </Card>
  );
}

function DependenciesCard({ plugin }: { plugin: PluginDetail }) {
  const deps = Object.entries(plugin.dependencies ?? {});
  return (
    <Card title="Dependencies" data-testid="plugin-dependencies">
      <h3 className="subheading">Depends on</h3>
      {deps.length ? (
        <ul className="plain-list">
          {deps.map(([name, range]) => (
            <li key={name}>
              <Link to={`/plugins/${encodeURIComponent(name)}`}>{name}</Link> <code className="muted">{range}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">Nothing.</p>
      )}
      <h3 className="subheading">Needed by</h3>
      {plugin.dependents.length ? (
        <ul className="plain-list">
          {plugin.dependents.map((name) => (
            <li key={name}>
              <Link to={`/plugins/${encodeURIComponent(name)}`}>{name}</Link>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No other plugin.</p>
      )}
    </Card>
  );
}

export function PluginDetailPage({ name }: { name: string }) {
  const query = usePluginDetail(name);
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
          <RealtimeCard plugin={plugin} />
          <DependenciesCard plugin={plugin} />
        </div>
        <div className="stack">
          <ConfigCard plugin={plugin} />
          <RoutesCard plugin={plugin} />
        </div>
      </div>
      <div className="stack">
        <TasksCard plugin={plugin} />
        <StallsCard stalls={plugin.stalls} />
        <LogsCard name={plugin.name} />
      </div>
    </div>
  );
}
