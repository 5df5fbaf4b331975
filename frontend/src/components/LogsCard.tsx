import { useLayoutEffect, useRef, useState } from "react";
import { useSocketStatus } from "../live/SocketContext";
import { usePluginLogs } from "../lib/queries";
import { formatTime } from "../lib/format";
import type { LogRecord } from "../lib/types";
import { Card, ErrorNotice, Spinner } from "./ui";
import "./LogsCard.css";

function fieldsText(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([k]) => k !== "traceback")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
}

const NO_RECORDS: LogRecord[] = [];

/** The plugin's recent log records, then new ones live from `plugin:log` pushes (useLiveUpdates). */
export function LogsCard({ name }: { name: string }) {
  const socketStatus = useSocketStatus();
  const query = usePluginLogs(name);
  const records = query.data ?? NO_RECORDS;
  const [level, setLevel] = useState("");
  const boxRef = useRef<HTMLDivElement>(null);
  const stickRef = useRef(true);

  const shown = level ? records.filter((r) => r.level === level) : records;

  useLayoutEffect(() => {
    const box = boxRef.current;
    if (box && stickRef.current) box.scrollTop = box.scrollHeight;
  }, [shown.length]);

  return (
    <Card
      title="Recent logs"
      className="span-2"
      data-testid="plugin-logs"
      actions={
        <>
          <span className={`live live--${socketStatus} small`} title="New records appear as they are logged">
            <span className="live__dot" aria-hidden="true" /> {socketStatus === "open" ? "live" : "reconnecting"}
          </span>
          <label htmlFor={`log-level-${name}`} className="sr-only">
            Log level
          </label>
          <select id={`log-level-${name}`} className="input input--auto input--small" value={level} onChange={(e) => setLevel(e.target.value)}>
            <option value="">All levels</option>
            <option value="debug">Debug</option>
            <option value="info">Info</option>
            <option value="warning">Warning</option>
            <option value="error">Error</option>
          </select>
        </>
      }
    >
      {query.isLoadingError ? (
        <ErrorNotice title="Could not load the logs" error={query.error} onRetry={() => void query.refetch()} />
      ) : query.isPending ? (
        <Spinner label="Loading logs" />
      ) : (
        <div
          className="logs"
          ref={boxRef}
          role="log"
          aria-label={`Logs of ${name}`}
          tabIndex={0}
          onScroll={(e) => {
            const el = e.currentTarget;
            stickRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          }}
        >
          {shown.length === 0 ? (
            <div className="muted small logs__empty">No log records{level ? ` at ${level} level` : ""} yet.</div>
          ) : (
            shown.map((r) => (
              <div key={r.seq} className={`log log--${r.level}`}>
                <time className="log__time" dateTime={new Date(r.time * 1000).toISOString()}>
                  {formatTime(r.time)}
                </time>
                <span className={`log__level log__level--${r.level}`}>{r.level}</span>
                <span className="log__message">{r.message}</span>
                {fieldsText(r.fields ?? {}) ? <span className="log__fields">{fieldsText(r.fields)}</span> : null}
                {typeof r.fields?.traceback === "string" ? (
                  <details className="log__traceback">
                    <summary>Traceback</summary>
                    <pre>{r.fields.traceback}</pre>
                  </details>
                ) : null}
              </div>
            ))
          )}
        </div>
      )}
    </Card>
  );
}
