import { useState, type FormEvent } from "react";
import { Icon } from "../components/icons";
import { Button, Card, Dialog, EmptyState, ErrorNotice, PageHeader, Spinner, StatusBadge } from "../components/ui";
import { ApiError, errorMessage } from "../lib/api";
import { formatRelative } from "../lib/format";
import { hasPermission } from "../lib/permissions";
import { useCreateServer, useDeleteServer, useServerAction, useServers } from "../lib/queries";
import { Link } from "../lib/router";
import type { Server } from "../lib/types";
import { useCurrentUser } from "../state/auth";
import { toast } from "../state/toasts";

const GAMES = ["minecraft", "valheim", "terraria", "rust", "ark", "cs2", "factorio"];

function CreateServerForm({ onDone }: { onDone: () => void }) {
  const create = useCreateServer();
  const [name, setName] = useState("");
  const [game, setGame] = useState("minecraft");
  const [node, setNode] = useState("local");
  const [error, setError] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    create.mutate(
      { name: name.trim(), game: game.trim(), node: node.trim() || "local" },
      {
        onSuccess: ({ data }) => {
          toast.success(`Server ${data?.name ?? name} created`);
          setName("");
          onDone();
        },
        onError: (e) => setError(e instanceof ApiError ? e.message : errorMessage(e)),
      },
    );
  };

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a server">
      {error ? (
        <div className="notice notice--danger span-all" role="alert">
          {error}
        </div>
      ) : null}
      <div className="field">
        <label className="field__label" htmlFor="server-name">
          Name
        </label>
        <input id="server-name" className="input" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="Survival world" />
      </div>
      <div className="field">
        <label className="field__label" htmlFor="server-game">
          Game
        </label>
        <input id="server-game" className="input" list="server-games" required maxLength={64} value={game} onChange={(e) => setGame(e.target.value)} />
        <datalist id="server-games">
          {GAMES.map((g) => (
            <option key={g} value={g} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label className="field__label" htmlFor="server-node">
          Node
        </label>
        <input id="server-node" className="input" required maxLength={100} value={node} onChange={(e) => setNode(e.target.value)} />
      </div>
      <div className="inline-form__actions">
        <Button type="submit" variant="primary" icon="plus" busy={create.isPending} disabled={!name.trim() || !game.trim()}>
          Create
        </Button>
      </div>
    </form>
  );
}

export function ServerActions({ server, canWrite }: { server: Server; canWrite: boolean }) {
  const action = useServerAction();
  const remove = useDeleteServer();
  const [confirming, setConfirming] = useState(false);
  const run = (kind: "start" | "stop") =>
    action.mutate(
      { id: server.id, action: kind },
      {
        onSuccess: () => toast.success(`${server.name} ${kind === "start" ? "started" : "stopped"}`),
        onError: (e) => toast.error(`Could not ${kind} ${server.name}: ${errorMessage(e)}`),
      },
    );
  const running = server.status === "running";
  const stopped = server.status === "stopped";
  return (
    <div className="row-gap">
      {running ? (
        <Button size="small" icon="stop" busy={action.isPending} disabled={!canWrite} onClick={() => run("stop")} aria-label={`Stop ${server.name}`}>
          Stop
        </Button>
      ) : (
        <Button size="small" icon="play" variant="primary" busy={action.isPending} disabled={!canWrite || !stopped} onClick={() => run("start")} aria-label={`Start ${server.name}`}>
          Start
        </Button>
      )}
      <Button
        size="small"
        variant="ghost"
        icon="trash"
        busy={remove.isPending}
        disabled={!canWrite || !stopped}
        title={stopped ? "Delete" : "Stop the server before deleting it"}
        aria-label={`Delete ${server.name}`}
        onClick={() => setConfirming(true)}
      />
      <Dialog
        open={confirming}
        title={`Delete ${server.name}?`}
        onClose={() => setConfirming(false)}
        footer={
          <>
            <Button variant="ghost" onClick={() => setConfirming(false)}>
              Cancel
            </Button>
            <Button
              variant="danger"
              busy={remove.isPending}
              onClick={() =>
                remove.mutate(server, {
                  onSuccess: () => toast.success(`${server.name} deleted`),
                  onError: (e) => toast.error(`Could not delete ${server.name}: ${errorMessage(e)}`),
                  onSettled: () => setConfirming(false),
                })
              }
            >
              Delete
            </Button>
          </>
        }
      >
        <p>
          The server <strong>{server.name}</strong> ({server.game} on {server.node}) will be removed. This cannot be
          undone.
        </p>
      </Dialog>
    </div>
  );
}

export function ServersPage() {
  const query = useServers();
  const user = useCurrentUser();
  const canWrite = hasPermission(user?.permissions, "server.write");
  const [creating, setCreating] = useState(false);
  const servers = query.data?.items ?? [];
  const running = servers.filter((s) => s.status === "running").length;

  return (
    <>
      <PageHeader
        title="Servers"
        subtitle={query.data ? `${query.data.total} servers · ${running} running` : "Game servers on your nodes"}
        actions={
          canWrite ? (
            <Button variant="primary" icon={creating ? "close" : "plus"} onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
              {creating ? "Close" : "New server"}
            </Button>
          ) : null
        }
      />
      {creating ? (
        <Card title="New server">
          <CreateServerForm onDone={() => setCreating(false)} />
        </Card>
      ) : null}
      {query.isPending ? (
        <Spinner label="Loading servers" />
      ) : query.isError ? (
        <ErrorNotice title="Could not load the servers" error={query.error} onRetry={() => void query.refetch()} />
      ) : servers.length === 0 ? (
        <EmptyState title="No servers yet" icon="servers">
          {canWrite ? "Create one with “New server”." : "Nothing to show."}
        </EmptyState>
      ) : (
        <Card className="card--flush">
          <div className="table-wrap">
            <table className="table" data-testid="servers-table">
              <thead>
                <tr>
                  <th scope="col">Server</th>
                  <th scope="col">Game</th>
                  <th scope="col">Node</th>
                  <th scope="col">Status</th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {servers.map((server) => (
                  <tr key={server.id} data-testid="server-row" data-server={server.name}>
                    <td>
                      <Link to={`/servers/${server.id}`} className="strong">
                        {server.name}
                      </Link>
                      <div className="muted small">#{server.id}</div>
                    </td>
                    <td>
                      <span className="tag">
                        <Icon name="servers" size={12} /> {server.game}
                      </span>
                    </td>
                    <td>{server.node}</td>
                    <td>
                      <StatusBadge status={server.status} />
                    </td>
                    <td title={server.updatedAt}>{formatRelative(server.updatedAt)}</td>
                    <td className="cell-actions">
                      <ServerActions server={server} canWrite={canWrite} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
    </>
  );
}
