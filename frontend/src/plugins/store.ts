// The Zustand store of plugins (as the admin API lists them) and of their frontend modules.

import { create } from "zustand";
import type { PluginSummary } from "../lib/types";
import type { PluginModuleState } from "./types";

export interface PluginStoreState {
  plugins: PluginSummary[];
  modules: Record<string, PluginModuleState>;
  setPlugins: (plugins: PluginSummary[]) => void;
  setModule: (name: string, module: PluginModuleState) => void;
  removeModule: (name: string) => void;
  reset: () => void;
}

export const usePluginStore = create<PluginStoreState>()((set, get) => ({
  plugins: [],
  modules: {},
  setPlugins(plugins) {
    set({ plugins });
  },
  setModule(name, module) {
    set({ modules: { ...get().modules, [name]: module } });
  },
  removeModule(name) {
    if (!(name in get().modules)) return;
    const modules = { ...get().modules };
    delete modules[name];
    set({ modules });
  },
  reset() {
    set({ plugins: [], modules: {} });
  },
}));
