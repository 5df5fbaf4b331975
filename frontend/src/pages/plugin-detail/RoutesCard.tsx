// The HTTP routes the plugin serves.
import { Badge, Card } from "../../components/ui";
import type { PluginDetail } from "../../lib/types";

export function RoutesCard({ plugin }: { plugin: PluginDetail }) {
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
