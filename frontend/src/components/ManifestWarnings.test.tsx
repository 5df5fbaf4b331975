import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { ManifestWarnings } from "./ui";

describe("ManifestWarnings", () => {
  it("lists each warning with its path, and nothing when there is none", () => {
    const { container, rerender } = render(<ManifestWarnings warnings={[]} />);
    expect(container.innerHTML).toBe("");
    rerender(
      <ManifestWarnings
        warnings={[
          { path: "frontend.hasTabs", message: "unknown key 'hasTabs' ignored" },
          { path: "permissions.0", message: "'console.read' is the original system's name" },
        ]}
      />,
    );
    const text = screen.getByTestId("plugin-warnings").textContent ?? "";
    expect(text).toContain("Accepted with 2 warnings");
    expect(text).toContain("frontend.hasTabs unknown key 'hasTabs' ignored");
    expect(text).toContain("permissions.0 'console.read'");
  });
});
