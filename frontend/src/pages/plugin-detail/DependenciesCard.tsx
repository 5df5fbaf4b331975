// The plugins this one depends on, and those that depend on it.
import { Card } from "../../components/ui";
import { Link } from "../../lib/router";
import type { PluginDetail } from "../../lib/types";

export function DependenciesCard({ plugin }: { plugin: PluginDetail }) {
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
