import { describe, expect, it } from "vitest";
import { useThemeStore } from "./theme";

describe("theme store", () => {
  it("toggles, applies the theme to <html> and keeps it in localStorage", () => {
    useThemeStore.getState().setTheme("dark");
    useThemeStore.getState().toggle();
    expect(useThemeStore.getState().theme).toBe("light");
    expect(document.documentElement.dataset.theme).toBe("light");
    expect(JSON.parse(localStorage.getItem("catalyst-theme") ?? "{}").state.theme).toBe("light");
    useThemeStore.getState().toggle();
    expect(document.documentElement.dataset.theme).toBe("dark");
  });
});
