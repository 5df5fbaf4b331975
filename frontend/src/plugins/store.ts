// The Zustand store of plugin frontend modules (client state: what this browser imported).
// The plugin list itself is server state and lives in the query cache (lib/queries).

import { create } from "zustand";
import type { PluginModuleState } from "./types";

export interface PluginModuleStoreState {
  modules: Record<string, PluginModuleState>;
  setModule: (name: string, module: PluginModuleState) => void;
  removeModule: (name: string) => void;
  reset: () => void;
}

export const usePluginStore = create<PluginModuleStoreState>()((set, get) => ({
  modules: {},
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
    set({ modules: {} });
  },
}));
