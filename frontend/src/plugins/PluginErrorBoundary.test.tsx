import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { Host, summary } from "../test/fixtures";
import { usePluginTabs } from "./hooks";
import { PluginErrorBoundary } from "./PluginErrorBoundary";
import { PluginView } from "./PluginView";
import { usePluginStore } from "./store";

beforeEach(() => {
  usePluginStore.getState().reset();
  vi.spyOn(console, "error").mockImplementation(() => {});
});

function Boom(): never {
  throw new Error("kaboom");
}

describe("PluginErrorBoundary", () => {
  it("shows an error card naming the plugin instead of the component that threw", () => {
    render(
      <>
        <PluginErrorBoundary plugin="broken" displayName="Broken Plugin" area="tab “Broken”">
          <Boom />
        </PluginErrorBoundary>
        <p>the host</p>
      </>,
    );
    const card = screen.getByTestId("plugin-error");
    expect(card.textContent).toContain("Broken Plugin");
    expect(card.textContent).toContain("tab “Broken”");
    expect(card.textContent).toContain("kaboom");
    expect(card.getAttribute("data-plugin")).toBe("broken");
    expect(screen.getByText("the host")).toBeTruthy();
  });

  it("renders again on “Try again”", () => {
    let fail = true;
    function Flaky() {
      if (fail) throw new Error("first time");
      return <p>recovered</p>;
    }
    render(
      <PluginErrorBoundary plugin="flaky">
        <Flaky />
      </PluginErrorBoundary>,
    );
    expect(screen.getByTestId("plugin-error")).toBeTruthy();
    fail = false;
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(screen.getByText("recovered")).toBeTruthy();
  });

  it("clears the error when the plugin is reloaded (a new generation)", () => {
    const { rerender } = render(<PluginView plugin="p" generation={1} component={Boom} />);
    expect(screen.getByTestId("plugin-error")).toBeTruthy();
    rerender(<PluginView plugin="p" generation={2} component={() => <p>fixed</p>} />);
    expect(screen.getByText("fixed")).toBeTruthy();
  });

  it("keeps other plugins working when one plugin's tab throws", async () => {
    const importer = vi.fn(async (url: string) =>
      url.includes("/bad/")
        ? { default: { tabs: [{ id: "t", label: "Bad", component: Boom }] } }
        : { default: { tabs: [{ id: "t", label: "Good", component: () => <p>good content</p> }] } },
    );
    function AllTabs() {
      const tabs = usePluginTabs("admin");
      return (
        <>
          {tabs.map((t) => (
            <PluginView key={t.key} plugin={t.plugin} displayName={t.pluginDisplayName} component={t.component} />
          ))}
        </>
      );
    }
    render(
      <Host plugins={[summary({ name: "bad", displayName: "Bad Plugin" }), summary({ name: "good" })]} importer={importer}>
        <AllTabs />
      </Host>,
    );
    expect(await screen.findByText("good content")).toBeTruthy();
    await waitFor(() => expect(screen.getByTestId("plugin-error").textContent).toContain("Bad Plugin"));
  });
});
