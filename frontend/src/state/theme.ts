import { create } from "zustand";
import { persist } from "zustand/middleware";

export type Theme = "dark" | "light";

interface ThemeState {
  theme: Theme;
  setTheme: (theme: Theme) => void;
  toggle: () => void;
}

function initialTheme(): Theme {
  const current = typeof document !== "undefined" ? document.documentElement.dataset.theme : undefined;
  if (current === "light" || current === "dark") return current;
  if (typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: light)").matches) {
    return "light";
  }
  return "dark";
}

function apply(theme: Theme): void {
  if (typeof document !== "undefined") document.documentElement.dataset.theme = theme;
}

/** The colour scheme, kept in localStorage under `catalyst-theme` (read by index.html too). */
export const useThemeStore = create<ThemeState>()(
  persist(
    (set, get) => ({
      theme: initialTheme(),
      setTheme(theme) {
        apply(theme);
        set({ theme });
      },
      toggle() {
        get().setTheme(get().theme === "dark" ? "light" : "dark");
      },
    }),
    {
      name: "catalyst-theme",
      onRehydrateStorage: () => (state) => {
        if (state) apply(state.theme);
      },
    },
  ),
);
