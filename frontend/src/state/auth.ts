import { create } from "zustand";
import { api, ApiError } from "../lib/api";
import type { User } from "../lib/types";

export type AuthStatus = "unknown" | "authenticated" | "anonymous";

interface AuthState {
  status: AuthStatus;
  user: User | null;
  /** Why the user is on the login page again ("Your session has expired"), if not by choice. */
  notice: string | null;
  /** Ask the server who we are (the session cookie decides). */
  check: () => Promise<void>;
  login: (username: string, password: string) => Promise<User>;
  logout: () => Promise<void>;
  /** The API answered 401: the session is gone. */
  expire: () => void;
  setUser: (user: User | null) => void;
}

export const useAuthStore = create<AuthState>()((set, get) => ({
  status: "unknown",
  user: null,
  notice: null,
  async check() {
    try {
      const user = await api<User>("/api/auth/me", { quiet401: true });
      set({ status: "authenticated", user });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        const ended = get().status === "authenticated";
        set({ status: "anonymous", user: null, notice: ended ? "Your session has ended. Please log in again." : null });
      } else {
        // The server is unreachable: show the login page with the reason.
        set({ status: "anonymous", user: null, notice: (error as Error).message });
      }
    }
  },
  async login(username, password) {
    const data = await api<{ token: string; user: User }>("/api/auth/login", {
      method: "POST",
      body: { username, password },
      quiet401: true,
    });
    set({ status: "authenticated", user: data.user, notice: null });
    return data.user;
  },
  async logout() {
    try {
      await api("/api/auth/logout", { method: "POST", quiet401: true });
    } catch {
      // Already logged out, or the server is unreachable: forget the session here anyway.
    }
    set({ status: "anonymous", user: null, notice: null });
  },
  expire() {
    if (get().status === "authenticated") {
      set({ status: "anonymous", user: null, notice: "Your session has ended. Please log in again." });
    }
  },
  setUser(user) {
    set({ user, status: user ? "authenticated" : "anonymous" });
  },
}));

export function useCurrentUser(): User | null {
  return useAuthStore((s) => s.user);
}
