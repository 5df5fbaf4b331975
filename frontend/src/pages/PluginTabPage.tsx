import { EmptyState, PageHeader, Spinner } from "../components/ui";
import { pluginTitle } from "../lib/format";
import { hasPermission } from "../lib/permissions";
import { Link } from "../lib/router";
import { usePluginHost } from "../plugins/context";
import { usePlugin, usePluginModule, usePluginPages, usePluginTabs } from "../plugins/hooks";
import { PluginView } from "../plugins/PluginView";

/** The tab or page asked for, whether or not the user may see it. */
type Wanted = { what: "tab"; id: string } | { what: "page"; path: string };

function Unavailable({ plugin, wanted }: { plugin: string; wanted: Wanted }) {
  const summary = usePlugin(plugin);
  const module = usePluginModule(plugin);
  const { user } = usePluginHost();
  const title = summary ? pluginTitle(summary) : plugin;
  if (module?.status === "loading") return <Spinner label={`Loading ${title}`} />;
  const contribution =
    wanted.what === "tab"
      ? module?.contributions.tabs.find((t) => t.location === "admin" && t.id === wanted.id)
      : module?.contributions.pages.find((p) => p.path === wanted.path);
  const missing = (contribution?.requiredPermissions ?? []).filter((p) => !hasPermission(user?.permissions, p));
  const reason = !summary
    ? "No plugin of that name is installed."
    : module?.status === "error"
      ? `Its frontend failed to load: ${module.error}`
      : !summary.enabled
        ? `${title} is ${summary.status}.`
        : contribution && missing.length
          ? `You lack the permission${missing.length > 1 ? "s" : ""} it requires: ${missing.join(", ")}.`
          : `${title} does not provide it (any more).`;
  return (
    <EmptyState title={`This ${wanted.what} is not available`}>
      <span data-testid="unavailable-reason">{reason}</span>{" "}
      <Link to={summary ? `/plugins/${encodeURIComponent(plugin)}` : "/plugins"}>Manage plugins</Link>
    </EmptyState>
  );
}

/** An admin tab a plugin contributes, at `/ext/<plugin>/<tab>`. */
export function PluginTabPage({ plugin, tabId }: { plugin: string; tabId: string }) {
  const tabs = usePluginTabs("admin");
  const tab = tabs.find((t) => t.plugin === plugin && t.id === tabId);
  if (!tab) return <Unavailable plugin={plugin} wanted={{ what: "tab", id: tabId }} />;
  return (
    <div className="page" data-testid="plugin-tab" data-plugin={plugin}>
      <PageHeader title={tab.label} subtitle={`Provided by ${tab.pluginDisplayName}`} />
      <PluginView
        plugin={tab.plugin}
        displayName={tab.pluginDisplayName}
        area={`tab “${tab.label}”`}
        generation={tab.generation}
        component={tab.component}
      />
    </div>
  );
}

/** A full page a plugin contributes, at `/ext/<plugin>/page/<path>`. */
export function PluginPagePage({ plugin, path }: { plugin: string; path: string }) {
  const pages = usePluginPages();
  const wanted = path.replace(/^\/+|\/+$/g, "");
  const page = pages.find((p) => p.plugin === plugin && p.path === wanted);
  if (!page) return <Unavailable plugin={plugin} wanted={{ what: "page", path: wanted }} />;
  return (
    <div className="page" data-testid="plugin-page" data-plugin={plugin}>
      {page.title ? <PageHeader title={page.title} subtitle={`Provided by ${page.pluginDisplayName}`} /> : null}
      <PluginView
        plugin={page.plugin}
        displayName={page.pluginDisplayName}
        area={`page “${page.title ?? page.path}”`}
        generation={page.generation}
        component={page.component}
      />
    </div>
  );
}
