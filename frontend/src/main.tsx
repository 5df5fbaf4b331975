// The tokens and base styles first: every component's own stylesheet comes after them.
import "./styles/tokens.css";
import "./styles/base.css";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { SocketProvider } from "./live/SocketContext";
import { CatalystSocket } from "./live/socket";
import { ApiError, onUnauthorized } from "./lib/api";
import { installCatalystGlobal } from "./plugins/sdk";
import { useAuthStore } from "./state/auth";

// Plugin frontend modules read React and the SDK from window.Catalyst: install it before any loads.
installCatalystGlobal();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: (failures, error) =>
        !(error instanceof ApiError && [400, 401, 403, 404].includes(error.status)) && failures < 2,
    },
  },
});

onUnauthorized(() => useAuthStore.getState().expire());

const socket = new CatalystSocket();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SocketProvider socket={socket}>
        <App />
      </SocketProvider>
    </QueryClientProvider>
  </StrictMode>,
);
