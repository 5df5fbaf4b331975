import { useState, type FormEvent } from "react";
import { useCreateRole, useUpdateRole } from "../lib/queries";
import { errorMessage } from "../lib/api";
import { hasPermission, holdsAll } from "../lib/permissions";
import type { RoleInfo, RoleList } from "../lib/types";
import { useCurrentUser } from "../state/auth";
import { toast } from "../state/toasts";
import { Badge, Button, Card, Dialog } from "./ui";

/** The grants a custom role may hold: everything, or any permission of the host catalog. */
function grantChoices(catalog: Record<string, string>): [string, string][] {
  return [["*", "Everything (an admin role)"], ...Object.entries(catalog).sort(([a], [b]) => a.localeCompare(b))];
}

function PermissionPicker({
  catalog,
  value,
  onChange,
  idPrefix,
}: {
  catalog: Record<string, string>;
  value: string[];
  onChange: (next: string[]) => void;
  idPrefix: string;
}) {
  const mine = useCurrentUser()?.permissions;
  const toggle = (grant: string, on: boolean) =>
    onChange(on ? [...value.filter((g) => g !== grant), grant].sort() : value.filter((g) => g !== grant));
  return (
    <fieldset className="perm-list span-all" style={{ display: "grid", gap: 6, padding: 12 }}>
      <legend className="field__label">Permissions</legend>
      {grantChoices(catalog).map(([grant, description]) => (
        <label key={grant} className="row-gap" htmlFor={`${idPrefix}-${grant}`}>
          <input
            id={`${idPrefix}-${grant}`}
            type="checkbox"
            checked={value.includes(grant)}
            disabled={!hasPermission(mine, grant)}
            onChange={(e) => toggle(grant, e.target.checked)}
          />
          <code>{grant}</code>
          <span className="muted small">{description}</span>
        </label>
      ))}
    </fieldset>
  );
}

function CreateRoleForm({ catalog, onDone }: { catalog: Record<string, string>; onDone: () => void }) {
  const create = useCreateRole();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [permissions, setPermissions] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    create.mutate(
      { name: name.trim(), description: description.trim(), permissions },
      {
        onSuccess: () => {
          toast.success(`Role ${name.trim()} created`);
          onDone();
        },
        onError: (e) => setError(errorMessage(e)),
      },
    );
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Create a role" style={{ marginBottom: 16 }}>
      {error ? (
        <div className="notice notice--danger span-all" role="alert">
          {error}
        </div>
      ) : null}
      <div className="field">
        <label className="field__label" htmlFor="role-name">
          Role name
        </label>
        <input id="role-name" className="input" required maxLength={64} pattern="[a-z0-9][a-z0-9._\-]*" value={name} onChange={(e) => setName(e.target.value)} placeholder="support" />
      </div>
      <div className="field">
        <label className="field__label" htmlFor="role-description">
          Description
        </label>
        <input id="role-description" className="input" maxLength={255} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <PermissionPicker catalog={catalog} value={permissions} onChange={setPermissions} idPrefix="new-role" />
      <div className="inline-form__actions">
        <Button type="submit" variant="primary" icon="plus" busy={create.isPending} disabled={!name.trim()}>
          Create role
        </Button>
      </div>
    </form>
  );
}

function EditRoleDialog({ role, catalog, onClose }: { role: RoleInfo | null; catalog: Record<string, string>; onClose: () => void }) {
  const update = useUpdateRole();
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? []);
  const [error, setError] = useState<string | null>(null);
  const save = () => {
    if (!role) return;
    setError(null);
    update.mutate(
      { name: role.name, permissions },
      {
        onSuccess: () => {
          toast.success(`Role ${role.name} updated`);
          onClose();
        },
        onError: (e) => setError(errorMessage(e)),
      },
    );
  };
  return (
    <Dialog
      open={role !== null}
      title={`Permissions of ${role?.name ?? ""}`}
      onClose={onClose}
      footer={
        <>
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button variant="primary" busy={update.isPending} onClick={save}>
            Save
          </Button>
        </>
      }
    >
      {error ? (
        <div className="notice notice--danger" role="alert">
          {error}
        </div>
      ) : null}
      <PermissionPicker catalog={catalog} value={permissions} onChange={setPermissions} idPrefix="edit-role" />
      <p className="muted small">Accounts holding this role get the new permissions on their next request.</p>
    </Dialog>
  );
}

export function RolesCard({ roles, canWrite }: { roles: RoleList; canWrite: boolean }) {
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<RoleInfo | null>(null);
  const mine = useCurrentUser()?.permissions;
  return (
    <Card
      title="Roles"
      data-testid="roles-card"
      actions={
        canWrite ? (
          <Button size="small" icon={creating ? "close" : "plus"} onClick={() => setCreating((c) => !c)} aria-expanded={creating}>
            {creating ? "Close" : "New role"}
          </Button>
        ) : null
      }
    >
      {creating ? <CreateRoleForm catalog={roles.catalog} onDone={() => setCreating(false)} /> : null}
      <ul className="plain-list plain-list--rows">
        {roles.items.map((role) => (
          <li key={role.name} data-testid="role-row" data-role={role.name}>
            <div className="row-gap">
              <span className="strong">{role.name}</span>
              {role.builtin ? <Badge tone="info">built-in</Badge> : null}
              <span className="muted small">
                {role.users ?? 0} {role.users === 1 ? "user" : "users"}
              </span>
              {canWrite && !role.builtin && holdsAll(mine, role.permissions) ? (
                <Button size="small" variant="ghost" onClick={() => setEditing(role)} aria-label={`Edit the role ${role.name}`}>
                  Edit
                </Button>
              ) : null}
            </div>
            {role.description ? <div className="muted small">{role.description}</div> : null}
            <div className="perm-chips">
              {role.permissions.length ? (
                role.permissions.map((p) => (
                  <code key={p} className="chip">
                    {p}
                  </code>
                ))
              ) : (
                <span className="muted small">no permissions</span>
              )}
            </div>
          </li>
        ))}
      </ul>
      {editing ? <EditRoleDialog key={editing.name} role={editing} catalog={roles.catalog} onClose={() => setEditing(null)} /> : null}
    </Card>
  );
}
