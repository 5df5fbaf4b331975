// How the plugin runs: in its own process (PID, memory, CPU, restarts, last exit, the sandbox
// layers the host reports) or inside the Catalyst process. Shows only what the API says.
import type { ReactNode } from "react";
import { Badge, Card, type Tone } from "../../components/ui";
import { formatDateTime } from "../../lib/format";
import type { PluginSummary } from "../../lib/types";
import "./RuntimeCard.css";

const LEVEL_TONES: Record<string, Tone> = { full: "success", partial: "warning", none: "danger" };
const LAYER_NAMES: Record<string, string> = {
  landlock: "Landlock (files, network)",
  seccomp: "seccomp (system calls)",
  no_new_privs: "no_new_privs",
  rlimits: "Resource limits",
  clean_env: "Clean environment",
  no_inherited_fds: "No inherited file descriptors",
};

export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function Rows({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="props">
      {rows.map(([k, v]) => (
        <div key={k} className="props__row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function RuntimeCard({ plugin }: { plugin: PluginSummary }) {
  const rt = plugin.runtime;
  if (rt.runtime === "inprocess") {
    return (
      <Card title="Runtime" data-testid="plugin-runtime-card" actions={<Badge tone="warning">in process</Badge>}>
        <p className="muted small" data-testid="runtime-inprocess">
          Runs inside the Catalyst process (<code>host.full</code>): no process boundary and no sandbox. Its
          frontend runs in the admin page with your session.
        </p>
      </Card>
    );
  }
  const sandbox = rt.sandbox;
  const layers = Object.entries(sandbox?.layers ?? {});
  const last = rt.lastExit;
  const rows: [string, ReactNode][] = [
    ["PID", rt.pid ?? <span className="muted">not running</span>],
    ["Memory", rt.memoryBytes != null ? mebibytes(rt.memoryBytes) : "—"],
    ["Memory limit", rt.memoryLimitMb != null ? `${rt.memoryLimitMb} MiB` : "—"],
    ["CPU", rt.cpuSeconds != null ? `${rt.cpuSeconds.toFixed(2)} s` : "—"],
    ["Restarts", <span key="r" data-testid="runtime-restarts">{`${rt.restarts ?? 0} recently · ${rt.crashes ?? 0} crashes in all`}</span>],
  ];
  return (
    <Card title="Runtime" data-testid="plugin-runtime-card" actions={<Badge tone="info">own process</Badge>}>
      <Rows rows={rows} />
      <h3 className="subheading">Last exit</h3>
      {last ? (
        <div className="runtime-exit" data-testid="runtime-last-exit">
          <p>
            <strong>{last.reason}</strong> <span className="muted small">{formatDateTime(last.at)}</span>
          </p>
          {last.stderrTail ? <pre className="runtime-stderr" data-testid="runtime-stderr">{last.stderrTail}</pre> : null}
        </div>
      ) : (
        <p className="muted small">None since the host started.</p>
      )}
      <h3 className="subheading">
        Sandbox{" "}
        {sandbox ? (
          <span data-testid="runtime-sandbox-level">
            <Badge tone={LEVEL_TONES[sandbox.level] ?? "neutral"}>{sandbox.level}</Badge>
          </span>
        ) : null}
      </h3>
      {layers.length ? (
        <ul className="runtime-layers plain-list" data-testid="runtime-layers">
          {layers.map(([layer, applied]) => (
            <li key={layer} data-layer={layer} data-applied={applied}>
              <span aria-hidden="true">{applied ? "✓" : "✗"}</span> {LAYER_NAMES[layer] ?? layer}
              <span className="sr-only">{applied ? " applied" : " not applied"}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">The host reports no isolation layers for this plugin.</p>
      )}
      {sandbox?.missing.length ? (
        <ul className="runtime-missing plain-list" data-testid="runtime-missing">
          {sandbox.missing.map((reason) => (
            <li key={reason} className="text-warning small">
              {reason}
            </li>
          ))}
        </ul>
      ) : null}
      {sandbox ? <p className="muted small">Landlock ABI: {sandbox.landlockAbi || "none"}</p> : null}
    </Card>
  );
}
