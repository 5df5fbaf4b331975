// The plugin's settings, as a form generated from its config schema.
import { ConfigForm } from "../../components/ConfigForm";
import { Card } from "../../components/ui";
import { useSaveConfig } from "../../lib/queries";
import type { PluginDetail } from "../../lib/types";
import { toast } from "../../state/toasts";

export function ConfigCard({ plugin }: { plugin: PluginDetail }) {
  const save = useSaveConfig(plugin.name);
  const empty = Object.keys(plugin.configSchema ?? {}).length === 0;
  return (
    <Card title="Configuration" data-testid="plugin-config">
      {empty ? (
        <p className="muted">This plugin has no settings.</p>
      ) : (
        <ConfigForm
          schema={plugin.configSchema}
          config={plugin.config}
          onSave={async (changes) => {
            const result = await save.mutateAsync(changes);
            toast.success(result.message ?? "Configuration saved");
            return result;
          }}
        />
      )}
    </Card>
  );
}
