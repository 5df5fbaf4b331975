import { useMemo } from "react";
import { Icon } from "../components/icons";
import { PermissionChips, PluginControls } from "../components/PluginControls";
import {
  Button,
  EmptyState,
  ErrorNotice,
  ManifestWarnings,
  PageHeader,
  ProblemList,
  Spinner,
  StatusBadge,
} from "../components/ui";
import { errorMessage } from "../lib/api";
import { errorHeadline, pluginTitle } from "../lib/format";
import { usePluginList, usePluginStates, useRescanPlugins } from "../lib/queries";
import { Link, navigate, useSearchParams } from "../lib/router";
import type { PluginSummary } from "../lib/types";
import { usePluginModule } from "../plugins/hooks";
import { toast } from "../state/toasts";
import "./PluginsPage.css";

export function filterPlugins(plugins: PluginSummary[], search: string, status: string): PluginSummary[] {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  return plugins.filter((p) => {
    if (status && p.status !== status) return false;
    const haystack = `${p.name} ${p.displayName} ${p.description} ${p.author}`.toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

function initials(name: string): string {
  return (
    name
      .split(/[\s-]+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0]?.toUpperCase())
      .join("") || "?"
  );
}

function RuntimeTag({ plugin }: { plugin: PluginSummary }) {
  const inProcess = plugin.runtime.runtime === "inprocess";
  return (
    <span
      className={`tag${inProcess ? " tag--warning" : ""}`}
      data-testid="plugin-runtime"
      data-runtime={plugin.runtime.runtime}
      title={inProcess ? "Runs inside the Catalyst process, with full access to the host" : "Runs in its own process"}
    >
      {inProcess ? "in process" : "process"}
    </span>
  );
}

function PluginRow({ plugin }: { plugin: PluginSummary }) {
  const module = usePluginModule(plugin.name);
  const detailUrl = `/plugins/${encodeURIComponent(plugin.name)}`;
  return (
    <article className={`plugin-row plugin-row--${plugin.status}`} data-testid="plugin-row" data-plugin={plugin.name} aria-labelledby={`plugin-${plugin.name}-title`}>
      <div className="plugin-row__avatar" aria-hidden="true">
        {initials(pluginTitle(plugin))}
      </div>
      <div className="plugin-row__main">
        <div className="plugin-row__title">
          <Link to={detailUrl} id={`plugin-${plugin.name}-title`} className="plugin-row__name">
            {pluginTitle(plugin)}
          </Link>
          <span className="muted small">v{plugin.version}</span>
          <StatusBadge status={plugin.status} />
          <RuntimeTag plugin={plugin} />
          {plugin.hasFrontend ? <span className="tag">UI</span> : null}
          {plugin.hasBackend ? <span className="tag">backend</span> : null}
        </div>
        <div className="plugin-row__meta muted small">
          <code>{plugin.name}</code> · by {plugin.author || "unknown"}
        </div>
        <p className="plugin-row__description">{plugin.description}</p>
        {plugin.error ? (
          <div className="inline-error" role="alert" data-testid="plugin-error-message">
            <Icon name="alert" size={16} /> {errorHeadline(plugin.error, plugin.errors)}
          </div>
        ) : null}
        <ProblemList problems={plugin.errors} />
        <ManifestWarnings warnings={plugin.warnings} />
        {plugin.reloadError ? (
          <div className="inline-warning">
            <Icon name="alert" size={16} /> Last reload failed: {plugin.reloadError.message}. The previous version
            keeps serving.
          </div>
        ) : null}
        {module?.status === "error" ? (
          <div className="inline-warning">
            <Icon name="alert" size={16} /> Its frontend did not load: {module.error}
          </div>
        ) : null}
        <PermissionChips plugin={plugin} />
      </div>
      <div className="plugin-row__actions">
        <PluginControls plugin={plugin} />
        <Link to={detailUrl} className="btn btn--ghost btn--small">
          Details
        </Link>
      </div>
    </article>
  );
}

export function PluginsPage() {
  const params = useSearchParams();
  const search = params.get("q") ?? "";
  const status = params.get("status") ?? "";
  const query = usePluginList();
  const states = usePluginStates();
  const rescan = useRescanPlugins();

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(window.location.search);
    if (value) next.set(key, value);
    else next.delete(key);
    const text = next.toString();
    navigate(`/plugins${text ? `?${text}` : ""}`, { replace: true });
  };

  const plugins = query.data;
  const shown = useMemo(() => filterPlugins(plugins ?? [], search, status), [plugins, search, status]);
  const counts = useMemo(() => {
    const c: Record<string, number> = {};
    for (const p of plugins ?? []) c[p.status] = (c[p.status] ?? 0) + 1;
    return c;
  }, [plugins]);

  return (
    <>
      <PageHeader
        title="Plugins"
        subtitle={
          plugins
            ? `${plugins.length} installed · ${counts.enabled ?? 0} enabled${counts.error ? ` · ${counts.error} in error` : ""}`
            : "Extensions of the panel"
        }
        actions={
          <Button
            icon="refresh"
            busy={rescan.isPending}
            onClick={() =>
              rescan.mutate(undefined, {
                onSuccess: ({ message }) => toast.success(message ?? "Plugins rescanned"),
                onError: (e) => toast.error(`Rescan failed: ${errorMessage(e)}`),
              })
            }
          >
            Rescan folder
          </Button>
        }
      />
      <div className="toolbar" role="search">
        <div className="search">
          <Icon name="search" size={16} />
          <label htmlFor="plugin-search" className="sr-only">
            Search plugins
          </label>
          <input
            id="plugin-search"
            className="input"
            type="search"
            placeholder="Search by name, description or author"
            value={search}
            onChange={(e) => setParam("q", e.target.value)}
          />
        </div>
        <label htmlFor="plugin-status" className="sr-only">
          Filter by status
        </label>
        <select id="plugin-status" className="input input--auto" value={status} onChange={(e) => setParam("status", e.target.value)}>
          <option value="">All statuses</option>
          {states.map((s) => (
            <option key={s} value={s}>
              {s[0].toUpperCase() + s.slice(1)}
              {counts[s] ? ` (${counts[s]})` : ""}
            </option>
          ))}
        </select>
      </div>
      {query.isPending ? (
        <Spinner label="Loading plugins" />
      ) : query.isError ? (
        <ErrorNotice title="Could not load the plugins" error={query.error} onRetry={() => void query.refetch()} />
      ) : shown.length === 0 ? (
        <EmptyState title={plugins?.length ? "No plugin matches" : "No plugins installed"}>
          {plugins?.length
            ? "Try another search or status."
            : "Put a plugin folder into catalyst-plugins/ and press “Rescan folder”."}
        </EmptyState>
      ) : (
        <div className="plugin-list" aria-live="polite">
          {shown.map((plugin) => (
            <PluginRow key={plugin.name} plugin={plugin} />
          ))}
        </div>
      )}
    </>
  );
}
