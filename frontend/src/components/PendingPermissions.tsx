import { useState } from "react";
import { errorMessage } from "../lib/api";
import { useGrantPermissions } from "../lib/queries";
import type { PluginSummary } from "../lib/types";
import { toast } from "../state/toasts";
import { Icon } from "./icons";
import { HostFullWarning, PermissionList } from "./PluginControls";
import { Button, Dialog } from "./ui";

/** The consent dialog for permissions a newer version of an enabled plugin requests. */
export function PendingConsentDialog({
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
  const pending = plugin.pendingPermissions ?? [];
  return (
    <Dialog
      open={open}
      title={`Grant new permissions to ${plugin.displayName}?`}
      onClose={onCancel}
      footer={
        <>
          <Button variant="ghost" onClick={onCancel} disabled={busy}>
            Not now
          </Button>
          <Button variant="primary" onClick={onConfirm} busy={busy} data-testid="pending-consent-confirm" autoFocus>
            Grant
          </Button>
        </>
      }
    >
      <HostFullWarning permissions={pending} />
      <p>
        <strong>{plugin.displayName}</strong> {plugin.version} requests permissions it was not granted. It keeps running
        with its current grants until you consent:
      </p>
      <PermissionList permissions={pending} testId="pending-consent-permissions" />
    </Dialog>
  );
}

/** A notice on the plugin page while permissions wait for consent, with the consent dialog. */
export function PendingPermissions({ plugin }: { plugin: PluginSummary }) {
  const grant = useGrantPermissions();
  const [open, setOpen] = useState(false);
  const pending = plugin.pendingPermissions ?? [];
  if (!pending.length) return null;
  const confirm = () =>
    grant.mutate(
      { name: plugin.name, grant: pending },
      {
        onSuccess: () => {
          setOpen(false);
          toast.success(`Granted ${pending.join(", ")} to ${plugin.displayName}`);
        },
        onError: (error) => {
          setOpen(false);
          toast.error(`Could not grant the permissions: ${errorMessage(error)}`);
        },
      },
    );
  return (
    <div className="notice notice--warning notice--block" role="status" data-testid="pending-permissions">
      <div className="notice__title">
        <Icon name="alert" /> New permissions wait for your consent
      </div>
      <div>
        This version requests <code>{pending.join(", ")}</code>. Until you grant them it runs with what it was granted
        before.
      </div>
      <div>
        <Button size="small" variant="primary" onClick={() => setOpen(true)}>
          Review and grant
        </Button>
      </div>
      <PendingConsentDialog
        plugin={plugin}
        open={open}
        busy={grant.isPending}
        onConfirm={confirm}
        onCancel={() => setOpen(false)}
      />
    </div>
  );
}
