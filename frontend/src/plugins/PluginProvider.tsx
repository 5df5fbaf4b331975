import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, type ReactNode } from "react";
import type { CatalystSocket } from "../live/socket";
import { usePluginListFor } from "../lib/queries";
import type { User } from "../lib/types";
import { PluginContext } from "./context";
import { detailEntryResolver, syncPluginModules, type EntryResolver, type ModuleImporter } from "./loader";
import { usePluginStore } from "./store";

export interface PluginProviderProps {
  socket: CatalystSocket;
  user: User | null;
  importer?: ModuleImporter;
  resolveEntry?: EntryResolver;
  children: ReactNode;
}

/**
 * Loads, reloads and drops plugin frontend modules as the plugin list in the query cache (kept
 * live by pushes) says plugins are enabled, reloaded and disabled. Plugin hooks work below it.
 */
export function PluginProvider({ socket, user, importer, resolveEntry, children }: PluginProviderProps) {
  const client = useQueryClient();
  const { data } = usePluginListFor(user);
  const list = user === null ? undefined : data;
  const entries = useMemo(() => resolveEntry ?? detailEntryResolver(client), [resolveEntry, client]);

  useEffect(() => {
    if (!list) return;
    void syncPluginModules(list, { importer, resolveEntry: entries });
  }, [list, importer, entries]);

  useEffect(() => {
    if (user === null) usePluginStore.getState().reset();
  }, [user]);

  const value = useMemo(() => ({ socket, user }), [socket, user]);
  return <PluginContext.Provider value={value}>{children}</PluginContext.Provider>;
}
