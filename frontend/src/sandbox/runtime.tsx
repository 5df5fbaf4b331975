// The entry of a sandboxed plugin frame (built to dist/sandbox/runtime.js, a classic script).
// It asks the host for the plugin's module, imports it from a blob: URL inside the frame, and
// either describes its contributions to the host or renders the one it was asked for, then
// keeps the host told of its height.
import "../styles/tokens.css";
import "../styles/base.css";
import "./frame.css";
import { Suspense } from "react";
import { createRoot } from "react-dom/client";
import { Spinner } from "../components/ui";
import { normalizeContributions } from "../plugins/contributions";
import { PluginErrorBoundary } from "../plugins/PluginErrorBoundary";
import type { ContributionInfo, FrameTarget } from "../plugins/sandbox/protocol";
import type { Contributions, PluginComponent } from "../plugins/types";
import { FrameClient } from "./client";
import { installFormSubmission } from "./forms";
import { createFrameCatalyst, initialModule, type FrameState } from "./sdk";

function describe(contributions: Contributions, warnings: string[]): ContributionInfo {
  return {
    tabs: contributions.tabs.map((t) => ({
      id: t.id,
      label: t.label,
      location: t.location,
      requiredPermissions: t.requiredPermissions ?? [],
      order: t.order ?? 0,
    })),
    pages: contributions.pages.map((p) => ({ path: p.path, title: p.title, requiredPermissions: p.requiredPermissions ?? [] })),
    slots: Object.fromEntries(Object.entries(contributions.slots).map(([k, v]) => [k, v.length])),
    warnings,
  };
}

function pick(contributions: Contributions, target: FrameTarget): PluginComponent | undefined {
  switch (target.kind) {
    case "tab":
      return contributions.tabs.find((t) => t.id === target.id && t.location === target.location)?.component;
    case "page":
      return contributions.pages.find((p) => p.path === target.path)?.component;
    case "slot":
      return contributions.slots[target.slot]?.[target.index];
    default:
      return undefined;
  }
}

function reportHeight(client: FrameClient, root: HTMLElement): void {
  let last = -1;
  const send = () => {
    const height = Math.ceil(root.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    client.post({ kind: "resize", height });
  };
  new ResizeObserver(send).observe(root);
  send();
}

async function main(): Promise<void> {
  const client = new FrameClient(window.parent, window);
  installFormSubmission(document);
  client.onTheme((theme) => {
    document.documentElement.dataset.theme = theme;
  });
  client.announce();
  const init = await client.initialized;
  document.documentElement.dataset.theme = init.theme;
  const state: FrameState = { plugin: init.plugin, user: init.user, module: initialModule() };
  (window as unknown as { Catalyst: unknown }).Catalyst = createFrameCatalyst(client, state, init.sdkVersion);

  const rootElement = document.getElementById("root") ?? document.body.appendChild(document.createElement("div"));
  let contributions: Contributions;
  try {
    const url = URL.createObjectURL(new Blob([init.source], { type: "text/javascript" }));
    const namespace: unknown = await import(/* @vite-ignore */ url);
    URL.revokeObjectURL(url);
    const normalized = normalizeContributions(namespace);
    contributions = normalized.contributions;
    state.module = { ...state.module, status: "ready", contributions, warnings: normalized.warnings };
    if (init.target.kind === "describe") {
      client.post({ kind: "contributions", contributions: describe(contributions, normalized.warnings) });
      return;
    }
  } catch (error) {
    client.post({ kind: "failed", error: error instanceof Error ? error.message : String(error) });
    return;
  }
  const View = pick(contributions, init.target);
  if (!View) {
    client.post({ kind: "failed", error: "The module no longer provides this view" });
    return;
  }
  const name = init.plugin.name;
  createRoot(rootElement).render(
    <PluginErrorBoundary plugin={name} displayName={init.plugin.displayName}>
      <Suspense fallback={<Spinner label={`Loading ${init.plugin.displayName || name}`} />}>
        <View {...init.props} plugin={name} />
      </Suspense>
    </PluginErrorBoundary>,
  );
  reportHeight(client, rootElement);
}

void main();
