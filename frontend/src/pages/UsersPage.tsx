import { useState, type FormEvent } from "react";
import { RolesCard } from "../components/RolesCard";
import { Badge, Button, Card, Dialog, EmptyState, ErrorNotice, PageHeader, Spinner } from "../components/ui";
import { useAccounts, useCreateAccount, useResetPassword, useRoles, useSetEnabled, useSetRole } from "../lib/queries";
import { errorMessage } from "../lib/api";
import { formatRelative } from "../lib/format";
import { hasPermission, holdsAll } from "../lib/permissions";
import type { Account, RoleInfo } from "../lib/types";
import { useCurrentUser } from "../state/auth";
import { toast } from "../state/toasts";

/** A password the server generated: shown here once, never again. */
export function GeneratedPasswordDialog({
  shown,
  onClose,
}: {
  shown: { username: string; password: string } | null;
  onClose: () => void;
}) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    if (!shown) return;
    try {
      await navigator.clipboard.writeText(shown.password);
      setCopied(true);
    } catch {
      toast.error("Could not copy: select the password and copy it by hand");
    }
  };
  return (
    <Dialog
      open={shown !== null}
      title={`Password of ${shown?.username ?? ""}`}
      onClose={() => {
        setCopied(false);
        onClose();
      }}
      footer={
        <>
          <Button onClick={() => void copy()}>
            {copied ? "Copied" : "Copy"}
          </Button>
          <Button
            variant="primary"
            onClick={() => {
              setCopied(false);
              onClose();
            }}
          >
            Done
          </Button>
        </>
      }
    >
      <p>This password is shown only now. Pass it on safely; the user can log in with it at once.</p>
      <p>
        <code className="strong" data-testid="generated-password">
          {shown?.password}
        </code>
      </p>
    </Dialog>
  );
}

function CreateUserForm({
  roles,
  onCreated,
}: {
  roles: RoleInfo[];
  onCreated: (username: string, password: string | null) => void;
}) {
  const create = useCreateAccount();
  const mine = useCurrentUser()?.permissions;
  const [username, setUsername] = useState("");
  const [role, setRole] = useState("viewer");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const name = username.trim();
    create.mutate(
      { username: name, role, ...(password ? { password } : {}) },
      {
        onSuccess: ({ data }) => {
          toast.success(`User ${name} created`);
          setUsername("");
          setPassword("");
          onCreated(name, data?.password ?? null);
        },
        onError: (e) => setError(errorMessage(e)),
      },
    );
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a user">
      {error ? (
        <div className="notice notice--danger span-all" role="alert">
          {error}
        </div>
      ) : null}
      <div className="field">
        <label className="field__label" htmlFor="user-name">
          Username
        </label>
        <input id="user-name" className="input" required maxLength={64} pattern="[A-Za-z0-9][A-Za-z0-9._@\-]*" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" />
      </div>
      <div className="field">
        <label className="field__label" htmlFor="user-role">
          Role
        </label>
        <select id="user-role" className="input" value={role} onChange={(e) => setRole(e.target.value)}>
          {roles.map((r) => (
            <option key={r.name} value={r.name} disabled={!holdsAll(mine, r.permissions)}>
              {r.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label className="field__label" htmlFor="user-password">
          Password
        </label>
        <input id="user-password" className="input" type="password" minLength={8} maxLength={1024} value={password} onChange={(e) => setPassword(e.target.value)} placeholder="Leave empty to generate one" autoComplete="new-password" />
      </div>
      <div className="inline-form__actions">
        <Button type="submit" variant="primary" icon="plus" busy={create.isPending} disabled={!username.trim()}>
          Create
        </Button>
      </div>
    </form>
  );
}

function UserRow({
  account,
  roles,
  canWrite,
  isSelf,
  onPassword,
}: {
  account: Account;
  roles: RoleInfo[];
  canWrite: boolean;
  isSelf: boolean;
  onPassword: (username: string, password: string) => void;
}) {
  const setRole = useSetRole();
  const setEnabled = useSetEnabled();
  const reset = useResetPassword();
  const mine = useCurrentUser()?.permissions;
  // The host refuses acting on an account holding more than you: offer nothing then.
  const mayAct = canWrite && holdsAll(mine, account.permissions);
  const [confirmReset, setConfirmReset] = useState(false);
  const current = account.roles.length === 1 ? account.roles[0] : "";
  const changeRole = (role: string) =>
    setRole.mutate(
      { id: account.id, role },
      {
        onSuccess: () => toast.success(`${account.username} is now ${role}`),
        onError: (e) => toast.error(`Could not change the role of ${account.username}: ${errorMessage(e)}`),
      },
    );
  const toggle = () =>
    setEnabled.mutate(
      { id: account.id, enabled: !account.enabled },
      {
        onSuccess: () => toast.success(`${account.username} ${account.enabled ? "disabled" : "enabled"}`),
        onError: (e) => toast.error(`Could not change ${account.username}: ${errorMessage(e)}`),
      },
    );
  return (
    <tr data-testid="user-row" data-user={account.username}>
      <td>
        <span className="strong">{account.username}</span>
        {isSelf ? <span className="muted small"> (you)</span> : null}
        <div className="muted small">#{account.id}</div>
      </td>
      <td>
        {mayAct ? (
          <select
            className="input input--small input--auto"
            aria-label={`Role of ${account.username}`}
            value={current}
            disabled={setRole.isPending}
            onChange={(e) => changeRole(e.target.value)}
          >
            {current === "" ? <option value="">{account.roles.join(", ") || "no role"}</option> : null}
            {roles.map((r) => (
              <option key={r.name} value={r.name} disabled={!holdsAll(mine, r.permissions)}>
                {r.name}
              </option>
            ))}
          </select>
        ) : (
          account.roles.join(", ") || "no role"
        )}
      </td>
      <td>
        {account.enabled ? <Badge tone="success">enabled</Badge> : <Badge tone="neutral">disabled</Badge>}
        {account.admin ? <Badge tone="info">admin</Badge> : null}
      </td>
      <td title={account.createdAt}>{formatRelative(account.createdAt)}</td>
      <td className="cell-actions">
        {mayAct ? (
          <div className="row-gap">
            <Button size="small" busy={setEnabled.isPending} onClick={toggle} aria-label={`${account.enabled ? "Disable" : "Enable"} ${account.username}`}>
              {account.enabled ? "Disable" : "Enable"}
            </Button>
            <Button size="small" variant="ghost" onClick={() => setConfirmReset(true)} aria-label={`Reset the password of ${account.username}`}>
              Reset password
            </Button>
            <Dialog
              open={confirmReset}
              title={`Reset the password of ${account.username}?`}
              onClose={() => setConfirmReset(false)}
              footer={
                <>
                  <Button variant="ghost" onClick={() => setConfirmReset(false)}>
                    Cancel
                  </Button>
                  <Button
                    variant="danger"
                    busy={reset.isPending}
                    onClick={() =>
                      reset.mutate(
                        { id: account.id },
                        {
                          onSuccess: ({ data }) => {
                            if (data?.password) onPassword(account.username, data.password);
                          },
                          onError: (e) => toast.error(`Could not reset the password: ${errorMessage(e)}`),
                          onSettled: () => setConfirmReset(false),
                        },
                      )
                    }
                  >
                    Reset
                  </Button>
                </>
              }
            >
              <p>
                A new password is generated and shown once. Every session of <strong>{account.username}</strong> ends
                {isSelf ? ", yours included: you will have to log in again" : ""}.
              </p>
            </Dialog>
          </div>
        ) : null}
      </td>
    </tr>
  );
}

export function UsersPage() {
  const accounts = useAccounts();
  const roles = useRoles();
  const user = useCurrentUser();
  const canWrite = hasPermission(user?.permissions, "user.write");
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<{ username: string; password: string } | null>(null);
  const roleList = roles.data?.items ?? [];
  const items = accounts.data?.items ?? [];
  const disabled = items.filter((a) => !a.enabled).length;
  return (
    <>
      <PageHeader
        title="Users"
        subtitle={
          accounts.data
            ? `${accounts.data.total} ${accounts.data.total === 1 ? "account" : "accounts"} · ${disabled} disabled`
            : "Accounts and roles"
        }
        actions={
          canWrite ? (
            <Button variant="primary" icon={creating ? "close" : "plus"} onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
              {creating ? "Close" : "New user"}
            </Button>
          ) : null
        }
      />
      {creating ? (
        <Card title="New user">
          <CreateUserForm
            roles={roleList}
            onCreated={(username, password) => {
              setCreating(false);
              if (password) setShown({ username, password });
            }}
          />
        </Card>
      ) : null}
      {accounts.isPending ? (
        <Spinner label="Loading users" />
      ) : accounts.isError ? (
        <ErrorNotice title="Could not load the users" error={accounts.error} onRetry={() => void accounts.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState title="No users" icon="users" />
      ) : (
        <Card className="card--flush">
          <div className="table-wrap">
            <table className="table" data-testid="users-table">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((account) => (
                  <UserRow
                    key={account.id}
                    account={account}
                    roles={roleList}
                    canWrite={canWrite}
                    isSelf={account.id === user?.id}
                    onPassword={(username, password) => setShown({ username, password })}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
      {roles.data ? <RolesCard roles={roles.data} canWrite={canWrite} /> : null}
      <GeneratedPasswordDialog shown={shown} onClose={() => setShown(null)} />
    </>
  );
}
