// The hooks of the frontend plugin SDK, used by the host and lent to plugin modules.

import { useEffect, useEffectEvent, useMemo, useSyncExternalStore } from "react";
import { createPluginApi, type PluginApi } from "./pluginApi";
import { pluginTitle } from "../lib/format";
import { hasAll } from "../lib/permissions";
import type { PluginSummary, SocketMessage } from "../lib/types";
import { usePluginListFor } from "../lib/queries";
import { usePluginHost } from "./context";
import { usePluginStore } from "./store";
import type {
  PluginModuleState,
  ResolvedPage,
  ResolvedSlot,
  ResolvedTab,
  TabLocation,
} from "./types";

const NO_PLUGINS: PluginSummary[] = [];

/** Every plugin the host knows, whatever its state (the query cache's plugin list). */
export function usePlugins(): PluginSummary[] {
  return usePluginListFor(usePluginHost().user).data ?? NO_PLUGINS;
}

/** One plugin as the admin API lists it, or undefined. */
export function usePlugin(name: string): PluginSummary | undefined {
  return usePlugins().find((p) => p.name === name);
}

/** The state of a plugin's frontend module (loading, ready, error), or undefined. */
export function usePluginModule(name: string): PluginModuleState | undefined {
  return usePluginStore((s) => s.modules[name]);
}

function displayNames(plugins: PluginSummary[]): Map<string, string> {
  return new Map(plugins.map((p) => [p.name, pluginTitle(p)]));
}

/** The tabs contributed for `location` that the current user may see. */
export function usePluginTabs(location: TabLocation): ResolvedTab[] {
  const modules = usePluginStore((s) => s.modules);
  const plugins = usePlugins();
  const { user } = usePluginHost();
  return useMemo(() => {
    const names = displayNames(plugins);
    const tabs: ResolvedTab[] = [];
    for (const [plugin, module] of Object.entries(modules)) {
      for (const tab of module.contributions.tabs) {
        if (tab.location !== location) continue;
        if (!hasAll(user?.permissions, tab.requiredPermissions)) continue;
        tabs.push({
          ...tab,
          plugin,
          pluginDisplayName: names.get(plugin) ?? plugin,
          key: `${plugin}/${tab.id}`,
          generation: module.generation,
        });
      }
    }
    return tabs.sort(
      (a, b) => (a.order ?? 0) - (b.order ?? 0) || a.label.localeCompare(b.label) || a.key.localeCompare(b.key),
    );
  }, [modules, plugins, location, user]);
}

/** The pages plugins contribute (at `/ext/<plugin>/page/<path>`) that the user may see. */
export function usePluginPages(): ResolvedPage[] {
  const modules = usePluginStore((s) => s.modules);
  const plugins = usePlugins();
  const { user } = usePluginHost();
  return useMemo(() => {
    const names = displayNames(plugins);
    return Object.entries(modules).flatMap(([plugin, module]) =>
      module.contributions.pages
        .filter((page) => hasAll(user?.permissions, page.requiredPermissions))
        .map((page) => ({
          ...page,
          plugin,
          pluginDisplayName: names.get(plugin) ?? plugin,
          key: `${plugin}/${page.path}`,
          generation: module.generation,
        })),
    );
  }, [modules, plugins, user]);
}

/** The components contributed to a named slot (`server.sidebar`, `dashboard.widgets`, …). */
export function usePluginSlot(slot: string): ResolvedSlot[] {
  const modules = usePluginStore((s) => s.modules);
  const plugins = usePlugins();
  return useMemo(() => {
    const names = displayNames(plugins);
    return Object.entries(modules)
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([plugin, module]) =>
        (module.contributions.slots[slot] ?? []).map((component, i) => ({
          plugin,
          pluginDisplayName: names.get(plugin) ?? plugin,
          key: `${plugin}/${slot}/${i}`,
          component,
          generation: module.generation,
        })),
      );
  }, [modules, plugins, slot]);
}


export function usePluginApi(name: string): PluginApi {
  return useMemo(() => createPluginApi(name), [name]);
}

export type PluginMessageHandler = (type: string, data: unknown, message: SocketMessage) => void;

export interface PluginSocket {
  /** Sends `{type: "plugin:<name>:<type>", data}`; queued while the socket reconnects. */
  send(type: string, data?: unknown): void;
  /** Receive `plugin:<name>:<type>` (or every `plugin:<name>:*` with `"*"`); returns unsubscribe. */
  subscribe(type: string, handler: PluginMessageHandler): () => void;
  /** True while the socket is open. */
  connected: boolean;
}

/**
 * Talk to the plugin's WebSocket handlers. `onMessage`, when given, receives every
 * `plugin:<name>:*` message for as long as the component is mounted, with the short type
 * (`"pong"` for `plugin:<name>:pong`).
 */
export function usePluginSocket(name: string, onMessage?: PluginMessageHandler): PluginSocket {
  const { socket } = usePluginHost();
  const prefix = `plugin:${name}:`;
  const deliver = useEffectEvent((message: SocketMessage) => {
    onMessage?.(message.type.slice(prefix.length), message.data, message);
  });
  const status = useSyncExternalStore(
    (notify) => socket.onStatus(notify),
    () => socket.status,
  );

  useEffect(
    () =>
      socket.subscribe(`${prefix}*`, (message) => deliver(message)),
    [socket, prefix],
  );

  return useMemo(
    () => ({
      send(type: string, data?: unknown) {
        socket.send({ type: prefix + type, data });
      },
      subscribe(type: string, handler: PluginMessageHandler) {
        const pattern = type === "*" ? `${prefix}*` : prefix + type;
        return socket.subscribe(pattern, (message) =>
          handler(message.type.slice(prefix.length), message.data, message),
        );
      },
      connected: status === "open",
    }),
    [socket, prefix, status],
  );
}

/** The logged-in user (for permission checks in plugin components). */
export function useCurrentUserFromHost() {
  return usePluginHost().user;
}

export { createPluginApi, type PluginApi, type PluginRequestOptions } from "./pluginApi";
