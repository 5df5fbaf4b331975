// `window.Catalyst`: what the host lends to plugin frontend modules. Plugin modules are plain ES
// modules loaded from the backend at run time, outside the host's bundle, so they cannot
// `import "react"`; they take React (the host's own copy: hooks need the one instance) and the
// SDK from this global instead. See docs/frontend-plugins.md.
import * as React from "react";
import { Fragment, createElement } from "react";
import pkg from "../../package.json";
import { Badge, Button, Card, EmptyState, ErrorNotice, Spinner, StatusBadge, Switch } from "../components/ui";
import { ApiError, requestJson } from "../lib/api";
import { hasPermission } from "../lib/permissions";
import { navigate } from "../lib/router";
import { toast } from "../state/toasts";
import {
  createPluginApi,
  useCurrentUserFromHost,
  usePlugin,
  usePluginApi,
  usePluginModule,
  usePluginSlot,
  usePluginSocket,
  usePluginTabs,
  usePlugins,
} from "./hooks";
import { PluginSlot } from "./PluginView";
import type { PluginModuleExports } from "./types";

export const SDK_VERSION: string = pkg.version;

export function createCatalystGlobal() {
  return Object.freeze({
    /** The host UI's version (semver). */
    version: SDK_VERSION,
    React,
    /** `React.createElement`, for modules written without a JSX build step. */
    h: createElement,
    Fragment,
    /** True inside a sandboxed frame (process-runtime plugins), false in the admin page. */
    sandboxed: false,
    hooks: Object.freeze({
      usePlugins,
      usePlugin,
      usePluginModule,
      usePluginTabs,
      usePluginSlot,
      usePluginApi,
      usePluginSocket,
      useCurrentUser: useCurrentUserFromHost,
    }),
    /** Host-styled components, so plugin UIs look like the rest of the panel. */
    ui: Object.freeze({ Badge, Button, Card, EmptyState, ErrorNotice, Spinner, StatusBadge, Switch, PluginSlot }),
    api: Object.freeze({ createPluginApi, requestJson, ApiError }),
    hasPermission,
    navigate,
    /** Show a toast in the admin page: `toast.success("Saved")`. */
    toast: Object.freeze({ success: toast.success, error: toast.error, info: toast.info }),
    /** Identity function: gives editors the shape of the default export. */
    definePlugin: (contributions: PluginModuleExports) => contributions,
  });
}

export type CatalystGlobal = ReturnType<typeof createCatalystGlobal>;

declare global {
  interface Window {
    Catalyst?: CatalystGlobal;
  }
}

export function installCatalystGlobal(target: Window = window): CatalystGlobal {
  const sdk = createCatalystGlobal();
  target.Catalyst = sdk;
  return sdk;
}
