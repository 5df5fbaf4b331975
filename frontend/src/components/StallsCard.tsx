import { formatDateTime, formatRelative } from "../lib/format";
import type { PluginStall } from "../lib/types";
import { Badge, Card } from "./ui";

/** Event-loop stalls the watchdog blamed on this plugin: blocking code in an `async def`. */
export function StallsCard({ stalls }: { stalls: PluginStall[] | undefined }) {
  if (!stalls?.length) return null;
  const newest = [...stalls].reverse();
  return (
    <Card title="Event-loop stalls" className="span-2" data-testid="plugin-stalls">
      <p className="muted small">
        This plugin's code blocked the host's event loop: every request waited. An <code>async def</code> handler must
        never block (no <code>time.sleep</code>, no blocking I/O); a plain <code>def</code> handler runs in the plugin's
        thread pool instead.
      </p>
      <ul className="stall-list">
        {newest.map((s, i) => (
          <li key={`${s.time}-${i}`} data-testid="stall">
            <Badge tone="warning">{(s.durationMs / 1000).toFixed(2)} s</Badge> {s.kind ? `${s.kind} ` : ""}
            {s.name ? <code>{s.name}</code> : null}
            {s.function ? (
              <span className="muted small">
                {" "}
                in <code>{s.function}</code>
              </span>
            ) : null}{" "}
            <span className="muted small" title={formatDateTime(s.time)}>
              {formatRelative(s.time)}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
