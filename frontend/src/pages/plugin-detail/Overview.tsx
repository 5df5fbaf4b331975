// The plugin's manifest facts and its permissions.
import type { ReactNode } from "react";
import { PermissionChips } from "../../components/PluginControls";
import { Badge, Card } from "../../components/ui";
import { formatDateTime, formatRelative } from "../../lib/format";
import type { PluginDetail } from "../../lib/types";

export function Overview({ plugin }: { plugin: PluginDetail }) {
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
