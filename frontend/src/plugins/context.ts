import { createContext, useContext } from "react";
import type { CatalystSocket } from "../live/socket";
import type { User } from "../lib/types";

export interface PluginHostContext {
  socket: CatalystSocket;
  user: User | null;
}

export const PluginContext = createContext<PluginHostContext | null>(null);

export function usePluginHost(): PluginHostContext {
  const value = useContext(PluginContext);
  if (!value) throw new Error("Catalyst plugin hooks must be used inside <PluginProvider>");
  return value;
}
