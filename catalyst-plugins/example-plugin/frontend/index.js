// The example plugin's admin UI: a plain ES module, loaded by the Catalyst admin UI at run time
// (no build step). React and the SDK come from `window.Catalyst`, which the host sets up before it
// imports any plugin module. See docs/frontend-plugins.md.

const { React, h, hooks, ui } = window.Catalyst;
const { useCallback, useEffect, useRef, useState } = React;
const { usePluginApi, usePluginSocket } = hooks;
const { Badge, Button, Card, ErrorNotice, Spinner } = ui;

const PLUGIN = "example-plugin";
const STATS_EVERY_MS = 3000;

function formatUptime(seconds) {
  if (!seconds) return "0 s";
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const hours = Math.floor(seconds / 3600);
  return [hours ? `${hours} h` : "", m ? `${m} min` : "", `${s} s`].filter(Boolean).join(" ");
}

function formatWhen(iso) {
  return iso ? new Date(iso).toLocaleString() : "never";
}

/** GET /hello: the greeting from the plugin's config. */
function Hello() {
  const api = usePluginApi(PLUGIN);
  const [state, setState] = useState({ loading: true });
  const load = useCallback(() => {
    setState((s) => ({ ...s, loading: true }));
    api.get("/hello").then(
      (body) => setState({ loading: false, body }),
      (error) => setState({ loading: false, error }),
    );
  }, [api]);
  useEffect(load, [load]);

  return h(
    Card,
    { title: "GET /hello", actions: h(Button, { size: "small", icon: "refresh", onClick: load, busy: state.loading }, "Refresh") },
    state.error
      ? h(ErrorNotice, { title: "The plugin did not answer", error: state.error })
      : state.body
        ? h(
            "div",
            { className: "stack" },
            h("p", { className: "lead", "data-testid": "example-greeting" }, state.body.message),
            h("span", { className: "muted small" }, `Requests served so far: ${state.body.requestCount}`),
          )
        : h(Spinner, { label: "Asking the plugin" }),
  );
}

/** GET /stats, polled every few seconds. */
function Stats() {
  const api = usePluginApi(PLUGIN);
  const [stats, setStats] = useState(null);
  const [error, setError] = useState(null);
  const [updatedAt, setUpdatedAt] = useState(null);

  useEffect(() => {
    let cancelled = false;
    const poll = () =>
      api.get("/stats").then(
        (body) => {
          if (cancelled) return;
          setStats(body.data);
          setError(null);
          setUpdatedAt(new Date());
        },
        (e) => !cancelled && setError(e),
      );
    poll();
    const timer = setInterval(poll, STATS_EVERY_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [api]);

  const events = stats ? Object.entries(stats.serverEvents || {}) : [];
  const rows = stats
    ? [
        ["Installed", formatWhen(stats.installedAt)],
        ["Uptime", formatUptime(stats.uptimeSeconds)],
        ["Requests", String(stats.requestCount)],
        ["Task runs", String(stats.taskRunCount)],
        ["Last task run", formatWhen(stats.lastTaskRun)],
        [
          "Server events seen",
          events.length ? events.map(([k, v]) => `${k.replace("server_events:", "")}: ${v}`).join(", ") : "none yet",
        ],
      ]
    : [];

  return h(
    Card,
    {
      title: "GET /stats",
      actions: h(Badge, { tone: error ? "danger" : "success" }, error ? "error" : `live · every ${STATS_EVERY_MS / 1000} s`),
    },
    error ? h(ErrorNotice, { title: "Could not read the stats", error }) : null,
    stats
      ? h(
          "dl",
          { className: "props", "data-testid": "example-stats" },
          rows.map(([k, v]) => h("div", { className: "props__row", key: k }, h("dt", null, k), h("dd", null, v))),
        )
      : error
        ? null
        : h(Spinner, { label: "Loading stats" }),
    updatedAt ? h("p", { className: "muted small" }, `Updated ${updatedAt.toLocaleTimeString()}`) : null,
  );
}

/** POST /echo with a message. */
function Echo() {
  const api = usePluginApi(PLUGIN);
  const [text, setText] = useState("Hello, Catalyst!");
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    api
      .post("/echo", { message: text, sentAt: new Date().toISOString() })
      .then(setResult, setError)
      .finally(() => setBusy(false));
  };

  return h(
    Card,
    { title: "POST /echo" },
    h(
      "form",
      { onSubmit: submit, className: "stack" },
      h(
        "div",
        { className: "field" },
        h("label", { className: "field__label", htmlFor: "example-echo" }, "Message"),
        h("input", {
          id: "example-echo",
          className: "input",
          value: text,
          onChange: (e) => setText(e.target.value),
        }),
      ),
      h("div", null, h(Button, { type: "submit", variant: "primary", busy }, "Send")),
    ),
    error ? h(ErrorNotice, { title: "Echo failed", error }) : null,
    result
      ? h(
          "pre",
          { className: "example-echo-result", "data-testid": "example-echo-result" },
          JSON.stringify(result.echo, null, 2),
        )
      : null,
  );
}

/** plugin:example-plugin:ping over the WebSocket; the pong's round trip. */
function Ping() {
  const pending = useRef(new Map());
  const counter = useRef(0);
  const [results, setResults] = useState([]);
  const socket = usePluginSocket(PLUGIN, (type, data) => {
    if (type !== "pong") return;
    const id = data && data.original && data.original.id;
    const sentAt = pending.current.get(id);
    if (sentAt === undefined) return;
    pending.current.delete(id);
    const rtt = performance.now() - sentAt;
    setResults((r) => [{ id, rtt, at: data.timestamp }, ...r].slice(0, 5));
  });

  const ping = () => {
    counter.current += 1;
    const id = counter.current;
    pending.current.set(id, performance.now());
    socket.send("ping", { id });
  };

  const last = results[0];
  return h(
    Card,
    {
      title: "WebSocket ping",
      actions: h(Badge, { tone: socket.connected ? "success" : "warning" }, socket.connected ? "connected" : "connecting"),
    },
    h(
      "div",
      { className: "row-gap" },
      h(Button, { variant: "primary", onClick: ping, "data-testid": "example-ping" }, "Ping"),
      last
        ? h(
            "span",
            { "data-testid": "example-pong", role: "status" },
            h("strong", null, "Pong "),
            `#${last.id} in ${last.rtt.toFixed(1)} ms`,
          )
        : h("span", { className: "muted" }, "Sends plugin:example-plugin:ping; the plugin answers pong."),
    ),
    results.length > 1
      ? h(
          "ul",
          { className: "plain-list muted small", style: { marginTop: 12 } },
          results.slice(1).map((r) => h("li", { key: r.id }, `#${r.id}: ${r.rtt.toFixed(1)} ms`)),
        )
      : null,
  );
}

function ExampleTab() {
  return h(
    "div",
    {
      className: "example-plugin",
      style: { display: "grid", gap: 16, alignItems: "start", gridTemplateColumns: "repeat(auto-fit, minmax(320px, 1fr))" },
    },
    h(Hello),
    h(Stats),
    h(Echo),
    h(Ping),
  );
}

/** A small card on the dashboard (the `dashboard.widgets` slot). */
function ExampleWidget() {
  const api = usePluginApi(PLUGIN);
  const [stats, setStats] = useState(null);
  useEffect(() => {
    let cancelled = false;
    api.get("/stats").then((body) => !cancelled && setStats(body.data), () => {});
    return () => {
      cancelled = true;
    };
  }, [api]);
  return h(
    Card,
    { title: "Example plugin" },
    stats
      ? h(
          "p",
          { className: "muted", style: { margin: 0 } },
          `${stats.requestCount} requests served, ${stats.taskRunCount} task runs. `,
          h("a", { href: "/ext/example-plugin/example", onClick: (e) => { e.preventDefault(); window.Catalyst.navigate("/ext/example-plugin/example"); } }, "Open the tab"),
        )
      : h(Spinner, { label: "Loading" }),
  );
}

export default {
  tabs: [
    {
      id: "example",
      label: "Example",
      location: "admin",
      requiredPermissions: ["admin.read"],
      component: ExampleTab,
    },
  ],
  slots: {
    "dashboard.widgets": ExampleWidget,
  },
};
