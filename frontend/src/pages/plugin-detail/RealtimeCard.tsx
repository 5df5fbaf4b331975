// The plugin's WebSocket handlers, event subscriptions and declared events.
import { Card } from "../../components/ui";
import type { PluginDetail } from "../../lib/types";

export function RealtimeCard({ plugin }: { plugin: PluginDetail }) {
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
