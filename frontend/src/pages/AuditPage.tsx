import { useState, type FormEvent } from "react";
import { Button, Card, EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { AUDIT_PAGE_SIZE, useAuditLog, type AuditFilters } from "../lib/queries";
import { formatDateTime, formatRelative } from "../lib/format";
import type { AuditEntry } from "../lib/types";

const FIELDS = ["actor", "action", "target", "since", "until"] as const;
type Field = (typeof FIELDS)[number];
type Draft = Record<Field, string>;

const EMPTY: Draft = { actor: "", action: "", target: "", since: "", until: "" };

/** The form's values as API filters: blanks dropped, local `datetime-local` times sent as UTC. */
export function toFilters(draft: Draft): AuditFilters {
  const filters: AuditFilters = {};
  for (const field of FIELDS) {
    const value = draft[field].trim();
    if (!value) continue;
    if (field === "since" || field === "until") {
      const date = new Date(value);
      if (!Number.isNaN(date.getTime())) filters[field] = date.toISOString();
    } else {
      filters[field] = value;
    }
  }
  return filters;
}

/** Details as one short line (`key=value`), the full JSON in the title. */
export function describeDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
}

function FilterForm({ onApply }: { onApply: (filters: AuditFilters) => void }) {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const set = (field: Field) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: e.target.value }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(toFilters(draft));
  };
  const labels: Record<Field, string> = { actor: "Actor", action: "Action", target: "Target", since: "Since", until: "Until" };
  const hints: Partial<Record<Field, string>> = { actor: "admin or system:watcher", action: "plugin or plugin.reload" };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Filter the audit log" role="search">
      {FIELDS.map((field) => (
        <div className="field" key={field}>
          <label className="field__label" htmlFor={`audit-${field}`}>
            {labels[field]}
          </label>
          <input
            id={`audit-${field}`}
            className="input"
            type={field === "since" || field === "until" ? "datetime-local" : "text"}
            maxLength={255}
            value={draft[field]}
            placeholder={hints[field]}
            onChange={set(field)}
          />
        </div>
      ))}
      <div className="inline-form__actions row-gap">
        <Button type="submit" variant="primary" icon="search">
          Apply
        </Button>
        <Button
          variant="ghost"
          onClick={() => {
            setDraft(EMPTY);
            onApply({});
          }}
        >
          Clear
        </Button>
      </div>
    </form>
  );
}

function AuditRow({ entry }: { entry: AuditEntry }) {
  const details = describeDetails(entry.details);
  return (
    <tr data-testid="audit-row" data-action={entry.action}>
      <td title={formatDateTime(entry.createdAt)}>{formatRelative(entry.createdAt)}</td>
      <td className="strong">{entry.actor}</td>
      <td>
        <code>{entry.action}</code>
      </td>
      <td>{entry.target}</td>
      <td className="muted small" title={JSON.stringify(entry.details, null, 2)}>
        {details.length > 160 ? `${details.slice(0, 160)}…` : details}
      </td>
    </tr>
  );
}

export function AuditPage() {
  const [filters, setFilters] = useState<AuditFilters>({});
  // The cursors of the pages walked so far: the last one is shown; null is the newest page.
  const [cursors, setCursors] = useState<(number | null)[]>([null]);
  const cursor = cursors[cursors.length - 1];
  const query = useAuditLog(filters, cursor);
  const page = query.data;
  const first = (cursors.length - 1) * AUDIT_PAGE_SIZE;
  return (
    <>
      <PageHeader
        title="Audit log"
        subtitle={page ? `${page.total} entries, newest first` : "Every change, with who made it"}
        actions={
          <Button icon="refresh" onClick={() => void query.refetch()} busy={query.isFetching}>
            Refresh
          </Button>
        }
      />
      <Card>
        <FilterForm
          onApply={(next) => {
            setFilters(next);
            setCursors([null]);
          }}
        />
      </Card>
      {query.isPending ? (
        <Spinner label="Loading the audit log" />
      ) : query.isError ? (
        <ErrorNotice title="Could not load the audit log" error={query.error} onRetry={() => void query.refetch()} />
      ) : !page || page.items.length === 0 ? (
        <EmptyState title="No entries" icon="audit">
          Nothing matches these filters.
        </EmptyState>
      ) : (
        <Card className="card--flush">
          <div className="table-wrap">
            <table className="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((entry) => (
                  <AuditRow key={entry.id} entry={entry} />
                ))}
              </tbody>
            </table>
          </div>
          <div className="toolbar" style={{ padding: 12, alignItems: "center" }}>
            <span className="muted small" data-testid="audit-range">
              {first + 1}–{first + page.items.length} of {page.total}
            </span>
            <span style={{ flex: 1 }} />
            <Button size="small" icon="back" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
              Newer
            </Button>
            <Button size="small" disabled={page.nextCursor === null} onClick={() => setCursors((c) => [...c, page.nextCursor])}>
              Older
            </Button>
          </div>
        </Card>
      )}
    </>
  );
}
