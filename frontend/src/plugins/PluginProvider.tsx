import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, type ReactNode } from "react";
import type { CatalystSocket } from "../live/socket";
import { api } from "../lib/api";
import { hasPermission } from "../lib/permissions";
import { keys } from "../lib/queries";
import type { PluginSummary, User } from "../lib/types";
import { PluginContext } from "./context";
import { syncPluginModules, type EntryResolver, type ModuleImporter } from "./loader";
import { usePluginStore } from "./store";

export interface PluginProviderProps {
  socket: CatalystSocket;
  user: User | null;
  /**
   * The plugin list; by default the `["plugins"]` query, kept live by pushes: GET /api/plugins
   * for admins, and for everyone else GET /api/ui/plugins (enabled plugins with a browser module).
   */
  plugins?: PluginSummary[];
  importer?: ModuleImporter;
  resolveEntry?: EntryResolver;
  children: ReactNode;
}

/**
 * Holds the plugin store in step with the plugin list and loads, reloads and drops plugin
 * frontend modules as plugins are enabled, reloaded and disabled. Plugin hooks work below it.
 */
export function PluginProvider({
  socket,
  user,
  plugins,
  importer,
  resolveEntry,
  children,
}: PluginProviderProps) {
  const canList = hasPermission(user?.permissions, "admin.read");
  const query = useQuery({
    queryKey: keys.plugins,
    queryFn: ({ signal }) =>
      api<PluginSummary[]>(canList ? "/api/plugins" : "/api/ui/plugins", { signal }),
    enabled: plugins === undefined && user !== null,
  });
  const list = plugins ?? query.data;

  useEffect(() => {
    if (!list) return;
    usePluginStore.getState().setPlugins(list);
    void syncPluginModules({ importer, resolveEntry });
  }, [list, importer, resolveEntry]);

  useEffect(() => {
    if (user === null) usePluginStore.getState().reset();
  }, [user]);

  const value = useMemo(() => ({ socket, user }), [socket, user]);
  return <PluginContext.Provider value={value}>{children}</PluginContext.Provider>;
}
