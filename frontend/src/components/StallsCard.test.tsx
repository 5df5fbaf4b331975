import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { StallsCard } from "./StallsCard";

describe("StallsCard", () => {
  it("shows nothing without stalls", () => {
    const { container } = render(<StallsCard stalls={[]} />);
    expect(container.textContent).toBe("");
  });

  it("lists the newest stall first, naming the callable", () => {
    const now = Date.now() / 1000;
    render(
      <StallsCard
        stalls={[
          { time: now - 60, durationMs: 300, kind: "task", name: "cleanup", function: "cleanup (backend/plugin.py:3)" },
          { time: now, durationMs: 612, kind: "route", name: "GET /stall", function: "stall (backend/plugin.py:9)" },
        ]}
      />,
    );
    const items = screen.getAllByTestId("stall");
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain("0.61 s");
    expect(items[0].textContent).toContain("GET /stall");
    expect(items[0].textContent).toContain("stall (backend/plugin.py:9)");
    expect(items[1].textContent).toContain("cleanup");
  });
});
