// The instances of the cluster that run this plugin, the code version each loaded (a hash of the
// plugin folder) and a warning when they run different code. Shows only what the API says.
import { Icon } from "../../components/icons";
import { Badge, Card, StatusBadge } from "../../components/ui";
import { formatDateTime, formatRelative } from "../../lib/format";
import type { PluginDetail, PluginInstance } from "../../lib/types";

/** How many hex digits of a code version the card shows (the full one is in the title). */
export const SHORT_HASH = 8;

export function shortHash(hash: string | null): string {
  return hash ? hash.slice(0, SHORT_HASH) : "—";
}

/** "a1b2c3d4 on a, b; 9f8e7d6c on c": which instances loaded which code. */
export function versionsText(instances: PluginInstance[]): string {
  const byHash = new Map<string, string[]>();
  for (const i of instances) {
    if (i.codeHash === null) continue;
    byHash.set(i.codeHash, [...(byHash.get(i.codeHash) ?? []), i.id]);
  }
  return [...byHash.entries()].map(([hash, ids]) => `${shortHash(hash)} on ${ids.join(", ")}`).join("; ");
}

export function InstancesCard({ plugin }: { plugin: PluginDetail }) {
  const instances = plugin.instances ?? [];
  if (!instances.length) return null;
  const count = `${instances.length} instance${instances.length === 1 ? "" : "s"}`;
  return (
    <Card title="Instances" className="span-2" data-testid="plugin-instances" actions={<Badge>{count}</Badge>}>
      {plugin.codeMismatch ? (
        <div className="notice notice--warning notice--block" role="alert" data-testid="instances-mismatch">
          <div className="notice__title">
            <Icon name="alert" /> Instances run different code of this plugin: {versionsText(instances)}
          </div>
          <div className="muted small">
            Make the plugin folder the same on every machine, then reload the plugin: a reload reaches every instance.
          </div>
        </div>
      ) : null}
      <div className="table-wrap">
        <table className="table" data-testid="instances-table">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Host</th>
              <th scope="col">PID</th>
              <th scope="col">State</th>
              <th scope="col">Code</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {instances.map((i) => (
              <tr key={i.id} data-instance={i.id} data-self={i.self}>
                <td>
                  <code>{i.id}</code> {i.self ? <Badge tone="info">this one</Badge> : null}
                </td>
                <td>{i.host}</td>
                <td>{i.pid}</td>
                <td>
                  <StatusBadge status={i.state} />
                </td>
                <td>
                  <code
                    data-testid="instance-hash"
                    title={i.codeHash ? `${i.codeHash}, loaded ${formatDateTime(i.loadedAt)}` : "nothing loaded"}
                  >
                    {shortHash(i.codeHash)}
                  </code>
                </td>
                <td title={formatDateTime(i.seenAt)}>{i.self ? "now" : formatRelative(i.seenAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
