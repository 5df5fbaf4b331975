// `window.Catalyst` inside a sandboxed frame: the same surface the admin page lends to in-page
// modules (plugins/sdk.ts), but everything that reaches the host goes over the bridge, and
// plugin-wide hooks only know the frame's own plugin.

import * as React from "react";
import { Fragment, createElement, useEffect, useEffectEvent, useMemo, useSyncExternalStore } from "react";
import { Badge, Button, Card, EmptyState, ErrorNotice, Spinner, StatusBadge, Switch } from "../components/ui";
import { ApiError, type RequestOptions } from "../lib/api";
import { hasAll, hasPermission } from "../lib/permissions";
import type { SocketMessage, User } from "../lib/types";
import { typeMatches } from "../live/socket";
import type { PluginMessageHandler, PluginSocket } from "../plugins/hooks";
import { createPluginApi as createApi, type PluginApi } from "../plugins/pluginApi";
import type { SandboxPluginInfo } from "../plugins/sandbox/protocol";
import type { Contributions, PluginModuleExports, PluginModuleState, TabLocation } from "../plugins/types";
import type { FrameClient } from "./client";

export interface FrameState {
  plugin: SandboxPluginInfo;
  user: User | null;
  module: PluginModuleState;
}

const EMPTY: Contributions = { tabs: [], pages: [], slots: {} };

export function initialModule(): PluginModuleState {
  return { key: "", url: null, status: "loading", contributions: EMPTY, error: null, warnings: [], generation: 1 };
}

export function createFrameCatalyst(client: FrameClient, state: FrameState, version: string) {
  const own = (name: string) => name === state.plugin.name;

  const createPluginApi = (name: string): PluginApi =>
    createApi(name, (url, options) => client.request(url, options));

  const usePlugins = () => useMemo(() => [state.plugin], []);
  const usePlugin = (name: string) => (own(name) ? state.plugin : undefined);
  const usePluginModule = (name: string) => (own(name) ? state.module : undefined);
  const title = state.plugin.displayName || state.plugin.name;

  function usePluginTabs(location: TabLocation) {
    return useMemo(
      () =>
        state.module.contributions.tabs
          .filter((t) => t.location === location && hasAll(state.user?.permissions, t.requiredPermissions))
          .map((t) => ({ ...t, plugin: state.plugin.name, pluginDisplayName: title, key: `${state.plugin.name}/${t.id}`, generation: 1 })),
      [location],
    );
  }

  function usePluginSlot(slot: string) {
    return useMemo(
      () =>
        (state.module.contributions.slots[slot] ?? []).map((component, i) => ({
          plugin: state.plugin.name,
          pluginDisplayName: title,
          key: `${state.plugin.name}/${slot}/${i}`,
          component,
          generation: 1,
        })),
      [slot],
    );
  }

  function usePluginSocket(name: string, onMessage?: PluginMessageHandler): PluginSocket {
    const prefix = `plugin:${name}:`;
    const deliver = useEffectEvent((message: SocketMessage) => {
      if (message.type.startsWith(prefix)) onMessage?.(message.type.slice(prefix.length), message.data, message);
    });
    const connected = useSyncExternalStore(
      (notify) => client.onSocketStatus(notify),
      () => client.socketOpen,
    );
    useEffect(() => client.onSocket((message) => deliver(message)), []);
    return useMemo(
      () => ({
        send(type: string, data?: unknown) {
          client.post({ kind: "ws-send", type: prefix + type, data });
        },
        subscribe(type: string, handler: PluginMessageHandler) {
          const pattern = type === "*" ? `${prefix}*` : prefix + type;
          return client.onSocket((message) => {
            if (typeMatches(pattern, message.type)) handler(message.type.slice(prefix.length), message.data, message);
          });
        },
        connected,
      }),
      [prefix, connected],
    );
  }

  function PluginSlot({ name, props, className }: { name: string; props?: Record<string, unknown>; className?: string }) {
    const entries = usePluginSlot(name);
    if (!entries.length) return null;
    return createElement(
      "div",
      { className: className ?? "plugin-slot", "data-slot": name },
      entries.map((e) => createElement(e.component, { key: e.key, ...props, plugin: e.plugin })),
    );
  }

  const navigate = (to: string) => client.post({ kind: "navigate", to });
  const toastOf = (tone: "success" | "error" | "info") => (message: string) => client.post({ kind: "toast", tone, message });

  return Object.freeze({
    version,
    React,
    h: createElement,
    Fragment,
    /** True inside a sandboxed frame, false in the admin page. */
    sandboxed: true,
    hooks: Object.freeze({
      usePlugins,
      usePlugin,
      usePluginModule,
      usePluginTabs,
      usePluginSlot,
      usePluginApi: (name: string) => useMemo(() => createPluginApi(name), [name]),
      usePluginSocket,
      useCurrentUser: () => state.user,
    }),
    ui: Object.freeze({ Badge, Button, Card, EmptyState, ErrorNotice, Spinner, StatusBadge, Switch, PluginSlot }),
    api: Object.freeze({
      createPluginApi,
      requestJson: (url: string, options?: RequestOptions) => client.request(url, options),
      ApiError,
    }),
    hasPermission,
    navigate,
    toast: Object.freeze({ success: toastOf("success"), error: toastOf("error"), info: toastOf("info") }),
    definePlugin: (contributions: PluginModuleExports) => contributions,
  });
}
