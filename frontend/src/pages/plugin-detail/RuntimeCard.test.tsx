import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ConsentDialog } from "../../components/PluginControls";
import { StatusBadge } from "../../components/ui";
import type { PluginRuntime } from "../../lib/types";
import { newQueryClient, summary } from "../../test/fixtures";
import { RuntimeCard } from "./RuntimeCard";

const running: PluginRuntime = {
  runtime: "process",
  pid: 4242,
  memoryBytes: 52_428_800,
  cpuSeconds: 1.234,
  memoryLimitMb: 256,
  restarts: 2,
  crashes: 5,
  lastExit: { reason: "killed by SIGSEGV", at: "2026-01-01T00:00:00+00:00", stderrTail: "Traceback\n  boom" },
  sandbox: {
    level: "partial",
    layers: { landlock: false, seccomp: true, no_new_privs: true },
    missing: ["landlock: kernel has no Landlock"],
    landlockAbi: 0,
  },
};

describe("RuntimeCard", () => {
  it("shows a process plugin's PID, memory, CPU, restarts, last exit and each sandbox layer", () => {
    render(<RuntimeCard plugin={summary({ runtime: running })} />);
    const card = screen.getByTestId("plugin-runtime-card");
    expect(card.textContent).toContain("4242");
    expect(card.textContent).toContain("50.0 MiB");
    expect(card.textContent).toContain("256 MiB");
    expect(card.textContent).toContain("1.23 s");
    expect(screen.getByTestId("runtime-restarts").textContent).toBe("2 recently · 5 crashes in all");
    expect(screen.getByTestId("runtime-last-exit").textContent).toContain("killed by SIGSEGV");
    const stderr = screen.getByTestId("runtime-stderr");
    expect(stderr.tagName).toBe("PRE");
    expect(stderr.textContent).toBe("Traceback\n  boom");
    expect(screen.getByTestId("runtime-sandbox-level").textContent).toBe("partial");
    const layers = within(screen.getByTestId("runtime-layers")).getAllByRole("listitem");
    expect(layers.map((l) => [l.dataset.layer, l.dataset.applied])).toEqual([
      ["landlock", "false"],
      ["seccomp", "true"],
      ["no_new_privs", "true"],
    ]);
    expect(screen.getByTestId("runtime-missing").textContent).toBe("landlock: kernel has no Landlock");
  });

  it("claims nothing the API does not report", () => {
    render(
      <RuntimeCard
        plugin={summary({
          runtime: { runtime: "process", pid: null, memoryBytes: null, cpuSeconds: null, memoryLimitMb: null, restarts: 0, crashes: 0, lastExit: null, sandbox: { level: "none", layers: {}, missing: [], landlockAbi: 0 } },
        })}
      />,
    );
    const card = screen.getByTestId("plugin-runtime-card");
    expect(card.textContent).toContain("not running");
    expect(card.textContent).toContain("reports no isolation layers");
    expect(screen.getByTestId("runtime-sandbox-level").textContent).toBe("none");
    expect(screen.queryByTestId("runtime-layers")).toBeNull();
    expect(screen.queryByTestId("runtime-stderr")).toBeNull();
  });

  it("says an in-process plugin has no boundary", () => {
    render(<RuntimeCard plugin={summary({ runtime: { runtime: "inprocess" } })} />);
    expect(screen.getByTestId("runtime-inprocess").textContent).toContain("no process boundary");
    expect(screen.queryByTestId("runtime-sandbox-level")).toBeNull();
  });
});

describe("restarting and host.full", () => {
  it("gives the restarting state its own badge", () => {
    render(
      <>
        <StatusBadge status="restarting" />
        <StatusBadge status="starting" />
      </>,
    );
    const [restarting, starting] = screen.getAllByText(/starting/);
    expect(restarting.className).toContain("badge--pulse");
    expect(starting.className).not.toContain("badge--pulse");
  });

  it("warns first, with the catalog's words, when the plugin asks for host.full", () => {
    const plugin = summary({ permissions: ["server.read", "host.full"], runtime: { runtime: "inprocess" } });
    render(
      <QueryClientProvider client={newQueryClient()}>
        <ConsentDialog plugin={plugin} open busy={false} onConfirm={() => {}} onCancel={() => {}} />
      </QueryClientProvider>,
    );
    const warning = screen.getByTestId("host-full-warning");
    expect(warning.getAttribute("role")).toBe("alert");
    expect(warning.textContent).toContain("Full access to the host: the plugin runs inside the Catalyst process");
    expect(screen.getByTestId("consent-trust").textContent).toContain("with your session");
  });

  it("shows no host.full warning for a process plugin", () => {
    render(
      <QueryClientProvider client={newQueryClient()}>
        <ConsentDialog plugin={summary({ permissions: ["server.read"], runtime: { runtime: "process" } })} open busy={false} onConfirm={() => {}} onCancel={() => {}} />
      </QueryClientProvider>,
    );
    expect(screen.queryByTestId("host-full-warning")).toBeNull();
    expect(screen.getByTestId("consent-trust").textContent).toContain("sandboxed frame");
  });
});
