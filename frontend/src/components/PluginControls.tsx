import { useState } from "react";
import { errorMessage } from "../lib/api";
import { useEnablePlugin, usePermissionDescriptions, useReloadPlugin } from "../lib/queries";
import type { PluginSummary } from "../lib/types";
import { toast } from "../state/toasts";
import { Icon } from "./icons";
import { Button, Dialog, Switch } from "./ui";
import "./PluginControls.css";

const TOGGLEABLE = new Set(["enabled", "disabled", "loaded"]);

/** Permissions with what each allows (from the host's catalog), as the consent dialogs list them. */
export function PermissionList({ permissions, testId }: { permissions: string[]; testId: string }) {
  const descriptions = usePermissionDescriptions();
  return (
    <ul className="perm-list" data-testid={testId}>
      {permissions.map((permission) => (
        <li key={permission}>
          <code>{permission}</code>
          <span className="muted">{descriptions ? (descriptions.get(permission) ?? "Defined by the host") : null}</span>
        </li>
      ))}
    </ul>
  );
}

/** Shown first, as a warning, when a plugin asks for `host.full` (the in-process runtime). */
export function HostFullWarning({ permissions }: { permissions: string[] }) {
  const descriptions = usePermissionDescriptions();
  if (!permissions.includes("host.full")) return null;
  return (
    <div className="notice notice--danger notice--block" role="alert" data-testid="host-full-warning">
      <div className="notice__title">
        <Icon name="alert" /> This plugin asks for <code>host.full</code>
      </div>
      <div>{descriptions?.get("host.full") ?? "Full access to the host"}.</div>
    </div>
  );
}

/** The consent dialog shown before enabling: enabling grants what the plugin requests. */
export function ConsentDialog({
  plugin,
  open,
  busy,
  onConfirm,
  onCancel,
}: {
  plugin: PluginSummary;
  open: boolean;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog
      open={open}
      title={`Enable ${plugin.displayName}?`}
      onClose={onCancel}
      footer={
        <>
          <Button variant="ghost" onClick={onCancel} disabled={busy}>
            Cancel
          </Button>
          <Button variant="primary" onClick={onConfirm} busy={busy} data-testid="consent-confirm" autoFocus>
            {plugin.permissions.length ? "Grant and enable" : "Enable"}
          </Button>
        </>
      }
    >
      <HostFullWarning permissions={plugin.permissions} />
      {plugin.permissions.length ? (
        <>
          <p>
            <strong>{plugin.displayName}</strong> {plugin.version} by {plugin.author} requests these permissions.
            Enabling it grants them:
          </p>
          <PermissionList permissions={plugin.permissions} testId="consent-permissions" />
        </>
      ) : (
        <p>
          <strong>{plugin.displayName}</strong> requests no permissions. Its routes, tasks and listeners start
          running once enabled.
        </p>
      )}
      <p className="muted" data-testid="consent-trust">
        {plugin.runtime.runtime === "inprocess"
          ? "It runs inside the Catalyst process with the host's privileges, and its admin UI runs in this page with your session: permissions cannot contain a malicious in-process plugin, so enable it only if you trust it."
          : "It runs in its own process, and its admin UI in a sandboxed frame that can call only the plugin's own routes. Enable only plugins you trust all the same."}
      </p>
    </Dialog>
  );
}

export function PluginControls({ plugin, compact = false }: { plugin: PluginSummary; compact?: boolean }) {
  const enable = useEnablePlugin();
  const reload = useReloadPlugin();
  const [consent, setConsent] = useState(false);
  const toggleable = TOGGLEABLE.has(plugin.status);

  const setEnabled = (enabled: boolean) => {
    enable.mutate(
      { name: plugin.name, enabled },
      {
        onSuccess: ({ data }) => {
          setConsent(false);
          if (data?.warning) toast.error(`${plugin.displayName} disabled, but its ${data.warning}`);
          else toast.success(`${plugin.displayName} ${enabled ? "enabled" : "disabled"}`);
        },
        onError: (error) => {
          setConsent(false);
          toast.error(`Could not ${enabled ? "enable" : "disable"} ${plugin.displayName}: ${errorMessage(error)}`);
        },
      },
    );
  };

  const doReload = () => {
    reload.mutate(
      { name: plugin.name },
      {
        onSuccess: ({ data }) => {
          const ms = data?.durationMs !== undefined ? ` in ${Math.round(data.durationMs)} ms` : "";
          toast.success(`${plugin.displayName} reloaded${ms}`);
        },
        onError: (error) => toast.error(`Reload of ${plugin.displayName} failed: ${errorMessage(error)}`),
      },
    );
  };

  return (
    <div className="plugin-controls">
      <Switch
        checked={plugin.enabled}
        disabled={!toggleable || enable.isPending}
        onChange={(on) => (on ? setConsent(true) : setEnabled(false))}
        label={`${plugin.enabled ? "Disable" : "Enable"} ${plugin.displayName}`}
        hideLabel
      />
      <Button
        size="small"
        icon="refresh"
        busy={reload.isPending}
        onClick={doReload}
        disabled={plugin.status === "unloaded"}
        aria-label={`Reload ${plugin.displayName}`}
        title="Reload the plugin's code"
      >
        {compact ? null : "Reload"}
      </Button>
      <ConsentDialog
        plugin={plugin}
        open={consent}
        busy={enable.isPending}
        onConfirm={() => setEnabled(true)}
        onCancel={() => setConsent(false)}
      />
    </div>
  );
}

export function PermissionChips({ plugin }: { plugin: PluginSummary }) {
  const descriptions = usePermissionDescriptions();
  const granted = new Set(plugin.grantedPermissions);
  const extra = plugin.grantedPermissions.filter((p) => !plugin.permissions.includes(p));
  if (!plugin.permissions.length && !extra.length) return <span className="muted small">No permissions requested</span>;
  return (
    <div className="perm-chips" aria-label="Permissions: requested versus granted">
      {plugin.permissions.map((p) => (
        <span
          key={p}
          className={`chip ${granted.has(p) ? "chip--granted" : "chip--pending"}`}
          title={`${descriptions?.get(p) ?? p} — ${granted.has(p) ? "granted" : "requested, not granted yet"}`}
        >
          <span aria-hidden="true">{granted.has(p) ? "✓" : "○"}</span> {p}
          <span className="sr-only">{granted.has(p) ? " (granted)" : " (requested, not granted)"}</span>
        </span>
      ))}
      {extra.map((p) => (
        <span key={p} className="chip chip--extra" title="Granted but no longer requested">
          + {p}
        </span>
      ))}
    </div>
  );
}
