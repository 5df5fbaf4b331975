import { Suspense } from "react";
import { Spinner } from "../components/ui";
import { PluginErrorBoundary } from "./PluginErrorBoundary";
import { usePluginSlot } from "./hooks";
import type { PluginComponent } from "./types";
import "./PluginView.css";

interface PluginViewProps {
  plugin: string;
  displayName?: string;
  area?: string;
  generation?: number;
  component: PluginComponent;
  props?: Record<string, unknown>;
}

/** One plugin component, isolated: its own error boundary and loading fallback. */
export function PluginView({ plugin, displayName, area, generation, component: View, props }: PluginViewProps) {
  return (
    <PluginErrorBoundary plugin={plugin} displayName={displayName} area={area} resetKey={generation}>
      <Suspense fallback={<Spinner label={`Loading ${displayName ?? plugin}`} />}>
        <View key={generation} {...props} plugin={plugin} />
      </Suspense>
    </PluginErrorBoundary>
  );
}

/** Everything plugins contribute to the named slot, each in its own boundary. */
export function PluginSlot({
  name,
  props,
  className,
}: {
  name: string;
  props?: Record<string, unknown>;
  className?: string;
}) {
  const entries = usePluginSlot(name);
  if (entries.length === 0) return null;
  return (
    <div className={className ?? "plugin-slot"} data-slot={name}>
      {entries.map((entry) => (
        <PluginView
          key={entry.key}
          plugin={entry.plugin}
          displayName={entry.pluginDisplayName}
          area={`slot ${name}`}
          generation={entry.generation}
          component={entry.component}
          props={props}
        />
      ))}
    </div>
  );
}
