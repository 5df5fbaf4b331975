// Loading a process-runtime plugin's frontend without running it in the admin page: the host
// fetches the module's source (with the user's session, same origin), a hidden sandboxed frame
// imports it and reports what it contributes, and each contribution becomes a host component
// that shows the real one in its own sandboxed frame.

import { createElement } from "react";
import pkg from "../../../package.json";
import type { PluginSummary } from "../../lib/types";
import { useThemeStore } from "../../state/theme";
import type { PluginComponentProps } from "../types";
import { frameDocument, SANDBOX_FLAGS } from "./document";
import { attachSandboxHost } from "./host";
import type { ContributionInfo, FrameTarget, SandboxPluginInfo } from "./protocol";
import { SandboxFrame } from "./SandboxFrame";

export type SandboxImporter = (plugin: PluginSummary, url: string) => Promise<unknown>;

export const DESCRIBE_TIMEOUT_MS = 15_000;

/** The facts a frame may know of its own plugin (none of the admin's details). */
export function pluginInfo(plugin: PluginSummary): SandboxPluginInfo {
  return {
    name: plugin.name,
    version: plugin.version,
    displayName: plugin.displayName,
    description: plugin.description,
    author: plugin.author,
    status: plugin.status,
    enabled: plugin.enabled,
    loadedAt: plugin.loadedAt,
    hasBackend: plugin.hasBackend,
    hasFrontend: plugin.hasFrontend,
    frontendEntry: plugin.frontendEntry ?? null,
    runtime: { runtime: plugin.runtime?.runtime ?? "process" },
  };
}

/** True when the plugin's frontend must run sandboxed: every plugin but an in-process one. */
export function isSandboxed(plugin: PluginSummary): boolean {
  return plugin.runtime?.runtime !== "inprocess";
}

const NO_SOCKET = {
  status: "closed",
  send: () => false,
  subscribe: () => () => {},
  onStatus: () => () => {},
};

/** Import the module in a hidden frame and return what it contributes. */
export function describeInFrame(info: SandboxPluginInfo, source: string, parent: HTMLElement = document.body): Promise<ContributionInfo> {
  return new Promise((resolve, reject) => {
    const frame = document.createElement("iframe");
    frame.setAttribute("sandbox", SANDBOX_FLAGS);
    frame.setAttribute("aria-hidden", "true");
    frame.tabIndex = -1;
    frame.dataset.pluginProbe = info.name;
    frame.style.cssText = "position:absolute;width:0;height:0;border:0;visibility:hidden";
    let detach = () => {};
    const finish = () => {
      clearTimeout(timer);
      detach();
      frame.remove();
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error("The sandboxed frontend did not start (is the UI built? see docs/frontend-plugins.md)"));
    }, DESCRIBE_TIMEOUT_MS);
    detach = attachSandboxHost(frame, {
      plugin: info,
      source,
      target: { kind: "describe" },
      user: null,
      socket: NO_SOCKET,
      theme: () => useThemeStore.getState().theme,
      subscribeTheme: () => () => {},
      request: () => Promise.reject(new Error("No API calls while the module is only being described")),
      navigate: () => {},
      toast: () => {},
      sdkVersion: pkg.version,
      origin: window.location.origin,
      onContributions: (contributions) => {
        finish();
        resolve(contributions);
      },
      onFailed: (error) => {
        finish();
        reject(new Error(error));
      },
    });
    frame.srcdoc = frameDocument(window.location.origin, useThemeStore.getState().theme, pkg.version);
    parent.appendChild(frame);
  });
}

function frameComponent(info: SandboxPluginInfo, source: string, target: FrameTarget, title: string) {
  function SandboxedContribution(props: PluginComponentProps) {
    return createElement(SandboxFrame, { plugin: info, source, target, title, props });
  }
  SandboxedContribution.displayName = `Sandboxed(${info.name})`;
  return SandboxedContribution;
}

/** A module namespace (as `import()` gives) whose components are sandboxed frames. */
export function sandboxedNamespace(info: SandboxPluginInfo, source: string, described: ContributionInfo) {
  const title = (what: string) => `${info.displayName || info.name}: ${what}`;
  const slots: Record<string, unknown[]> = {};
  for (const [slot, count] of Object.entries(described.slots ?? {})) {
    slots[slot] = Array.from({ length: Math.min(Number(count) || 0, 20) }, (_, index) =>
      frameComponent(info, source, { kind: "slot", slot, index }, title(slot)),
    );
  }
  return {
    default: {
      tabs: (described.tabs ?? []).map((tab) => ({
        ...tab,
        component: frameComponent(info, source, { kind: "tab", id: tab.id, location: tab.location }, title(tab.label)),
      })),
      pages: (described.pages ?? []).map((page) => ({
        ...page,
        component: frameComponent(info, source, { kind: "page", path: page.path }, title(page.title ?? page.path)),
      })),
      slots,
    },
  };
}

/** The loader's importer for sandboxed plugins. */
export const sandboxImporter: SandboxImporter = async (plugin, url) => {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/javascript" } });
  if (!response.ok) throw new Error(`Could not fetch the module: ${response.status} ${response.statusText}`.trim());
  const source = await response.text();
  const info = pluginInfo(plugin);
  const described = await describeInFrame(info, source);
  for (const warning of described.warnings ?? []) console.warn(`Plugin ${plugin.name}: ${warning}`);
  return sandboxedNamespace(info, source, described);
};
