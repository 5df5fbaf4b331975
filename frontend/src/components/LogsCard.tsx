import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { useSocket, useSocketStatus } from "../live/SocketContext";
import { fetchPluginLogs } from "../lib/queries";
import { formatTime } from "../lib/format";
import type { LogRecord, PluginLogPush } from "../lib/types";
import { Card, ErrorNotice, Spinner } from "./ui";

const KEEP = 500;

/** Merge records by sequence number (pushes may arrive before the first page). */
export function mergeLogs(current: LogRecord[], incoming: LogRecord[]): LogRecord[] {
  const bySeq = new Map<number, LogRecord>();
  for (const r of current) bySeq.set(r.seq, r);
  for (const r of incoming) bySeq.set(r.seq, r);
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return merged.length > KEEP ? merged.slice(-KEEP) : merged;
}

function fieldsText(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([k]) => k !== "traceback")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
}

/** The plugin's recent log records, then new ones live from `plugin:log` pushes. */
export function LogsCard({ name }: { name: string }) {
  const socket = useSocket();
  const socketStatus = useSocketStatus();
  const [records, setRecords] = useState<LogRecord[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [level, setLevel] = useState("");
  const [attempt, setAttempt] = useState(0);
  const boxRef = useRef<HTMLDivElement>(null);
  const stickRef = useRef(true);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    fetchPluginLogs(name, 200, controller.signal)
      .then((page) => setRecords((current) => mergeLogs(current, page ?? [])))
      .catch((e: unknown) => {
        if (!controller.signal.aborted) setError(e);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    const off = socket.subscribe("plugin:log", (message) => {
      const data = message.data as PluginLogPush | undefined;
      if (data?.name === name && data.record) setRecords((current) => mergeLogs(current, [data.record]));
    });
    const offReconnect = socket.onReconnect(() => {
      fetchPluginLogs(name, 200).then((page) => setRecords((current) => mergeLogs(current, page ?? [])), () => {});
    });
    return () => {
      controller.abort();
      off();
      offReconnect();
    };
  }, [name, socket, attempt]);

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
      {error ? (
        <ErrorNotice title="Could not load the logs" error={error} onRetry={() => setAttempt((a) => a + 1)} />
      ) : loading && records.length === 0 ? (
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
