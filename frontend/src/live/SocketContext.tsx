import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import { CatalystSocket, type SocketStatus } from "./socket";

const SocketContext = createContext<CatalystSocket | null>(null);

export function SocketProvider({ socket, children }: { socket: CatalystSocket; children: ReactNode }) {
  return <SocketContext.Provider value={socket}>{children}</SocketContext.Provider>;
}

export function useSocket(): CatalystSocket {
  const socket = useContext(SocketContext);
  if (!socket) throw new Error("useSocket must be used inside <SocketProvider>");
  return socket;
}

export function useSocketStatus(): SocketStatus {
  const socket = useSocket();
  return useSyncExternalStore(
    (notify) => socket.onStatus(notify),
    () => socket.status,
  );
}
