// What is wrong with a plugin: its error, a failed reload or hook, a stuck hook thread, a
// frontend that did not load, manifest warnings.
import { Icon } from "../../components/icons";
import { ManifestWarnings, ProblemList } from "../../components/ui";
import { errorHeadline, formatRelative } from "../../lib/format";
import type { PluginDetail } from "../../lib/types";
import { usePluginModule } from "../../plugins/hooks";
import { Traceback } from "./Traceback";

export function Problems({ plugin }: { plugin: PluginDetail }) {
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
