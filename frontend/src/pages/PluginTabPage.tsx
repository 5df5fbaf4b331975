import { EmptyState, PageHeader, Spinner } from "../components/ui";
import { Link } from "../lib/router";
import { usePlugin, usePluginModule, usePluginPages, usePluginTabs } from "../plugins/hooks";
import { PluginView } from "../plugins/PluginView";

function Unavailable({ plugin, what }: { plugin: string; what: string }) {
  const summary = usePlugin(plugin);
  const module = usePluginModule(plugin);
  if (module?.status === "loading") return <Spinner label={`Loading ${summary?.displayName ?? plugin}`} />;
  const reason = !summary
    ? "No plugin of that name is installed."
    : module?.status === "error"
      ? `Its frontend failed to load: ${module.error}`
      : !summary.enabled
        ? `${summary.displayName} is ${summary.status}.`
        : `${summary.displayName} does not provide it (any more).`;
  return (
    <EmptyState title={`This ${what} is not available`}>
      {reason} <Link to={summary ? `/plugins/${encodeURIComponent(plugin)}` : "/plugins"}>Manage plugins</Link>
    </EmptyState>
  );
}

/** An admin tab a plugin contributes, at `/ext/<plugin>/<tab>`. */
export function PluginTabPage({ plugin, tabId }: { plugin: string; tabId: string }) {
  const tabs = usePluginTabs("admin");
  const tab = tabs.find((t) => t.plugin === plugin && t.id === tabId);
  if (!tab) return <Unavailable plugin={plugin} what="tab" />;
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
  const page = pages.find((p) => p.plugin === plugin && p.path === path.replace(/^\/+|\/+$/g, ""));
  if (!page) return <Unavailable plugin={plugin} what="page" />;
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
