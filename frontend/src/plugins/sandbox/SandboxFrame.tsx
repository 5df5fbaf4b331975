import { useEffect, useMemo, useRef, useState } from "react";
import pkg from "../../../package.json";
import { requestJson } from "../../lib/api";
import { navigate } from "../../lib/router";
import { useThemeStore } from "../../state/theme";
import { toast } from "../../state/toasts";
import { usePluginHost } from "../context";
import { frameDocument, SANDBOX_FLAGS } from "./document";
import { attachSandboxHost } from "./host";
import type { FrameTarget, SandboxPluginInfo } from "./protocol";

const INITIAL_HEIGHT = 80;

/** Props a frame may receive: plain data only (the server of a server tab, …). */
export function plainProps(props: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "function" || typeof value === "symbol") continue;
    try {
      out[key] = JSON.parse(JSON.stringify(value ?? null)) as unknown;
    } catch {
      // not plain data: left out
    }
  }
  return out;
}

/** One sandboxed plugin view: an `allow-scripts` iframe sized to its content. */
export function SandboxFrame({
  plugin,
  source,
  target,
  title,
  props,
}: {
  plugin: SandboxPluginInfo;
  source: string;
  target: FrameTarget;
  title: string;
  props: Record<string, unknown>;
}) {
  const ref = useRef<HTMLIFrameElement>(null);
  const { socket, user } = usePluginHost();
  const [height, setHeight] = useState(INITIAL_HEIGHT);
  const [failed, setFailed] = useState<string | null>(null);
  // The document never changes for a frame: the theme is pushed over the bridge.
  const [doc] = useState(() => frameDocument(window.location.origin, useThemeStore.getState().theme, pkg.version));
  const propsKey = JSON.stringify(plainProps(props));

  const options = useMemo(
    () => ({ plugin, source, target, user, props: JSON.parse(propsKey) as Record<string, unknown> }),
    [plugin, source, target, user, propsKey],
  );

  useEffect(() => {
    const frame = ref.current;
    if (!frame) return undefined;
    return attachSandboxHost(frame, {
      ...options,
      socket,
      theme: () => useThemeStore.getState().theme,
      subscribeTheme: (listener) => useThemeStore.subscribe((state, previous) => {
        if (state.theme !== previous.theme) listener(state.theme);
      }),
      request: requestJson,
      navigate,
      toast: (tone, message) => toast[tone](message),
      sdkVersion: pkg.version,
      origin: window.location.origin,
      onResize: setHeight,
      onFailed: setFailed,
    });
  }, [options, socket]);

  if (failed) throw new Error(failed);
  return (
    <iframe
      ref={ref}
      className="plugin-frame"
      title={title}
      sandbox={SANDBOX_FLAGS}
      srcDoc={doc}
      style={{ height }}
      data-testid="plugin-frame"
      data-plugin={plugin.name}
      data-sandboxed="true"
    />
  );
}
