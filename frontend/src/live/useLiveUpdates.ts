import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { applyPluginLog, applyPluginSummary, applyServer, keys } from "../lib/queries";
import type { PluginLogPush, PluginsUpdated, ServersUpdated } from "../lib/types";
import type { CatalystSocket } from "./socket";

/**
 * Keep the query cache in step with the host's pushes: `plugins:updated` replaces a plugin in
 * the list (and its detail is refetched), `plugin:log` adds a record to the plugin's logs,
 * `servers:updated` replaces a server. After a dropped connection everything is refetched, since
 * pushes sent meanwhile are lost.
 */
export function useLiveUpdates(socket: CatalystSocket): void {
  const client = useQueryClient();
  useEffect(() => {
    const offPlugins = socket.subscribe("plugins:updated", (message) => {
      const data = message.data as PluginsUpdated | undefined;
      if (!data || typeof data.name !== "string") return;
      applyPluginSummary(client, data.name, data.plugin ?? null);
      if (data.plugin) void client.invalidateQueries({ queryKey: keys.plugin(data.name), exact: true });
      if (data.reason === "rescan") void client.invalidateQueries({ queryKey: keys.plugins });
    });
    const offLogs = socket.subscribe("plugin:log", (message) => {
      const data = message.data as PluginLogPush | undefined;
      if (typeof data?.name === "string" && data.record) applyPluginLog(client, data.name, data.record);
    });
    const offServers = socket.subscribe("servers:updated", (message) => {
      const data = message.data as ServersUpdated | undefined;
      if (!data?.server) return;
      applyServer(client, data.server, /deleted$/.test(data.event ?? ""));
    });
    const offReconnect = socket.onReconnect(() => {
      void client.invalidateQueries({ queryKey: keys.plugins });
      void client.invalidateQueries({ queryKey: keys.details });
      void client.invalidateQueries({ queryKey: keys.logs });
      void client.invalidateQueries({ queryKey: keys.servers });
    });
    return () => {
      offPlugins();
      offLogs();
      offServers();
      offReconnect();
    };
  }, [socket, client]);
}
