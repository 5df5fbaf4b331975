import { create } from "zustand";

export type ToastKind = "success" | "error" | "info";

export interface Toast {
  id: number;
  kind: ToastKind;
  message: string;
}

interface ToastState {
  toasts: Toast[];
  push: (kind: ToastKind, message: string, timeoutMs?: number) => number;
  dismiss: (id: number) => void;
}

let next = 1;

export const useToastStore = create<ToastState>()((set, get) => ({
  toasts: [],
  push(kind, message, timeoutMs = kind === "error" ? 8000 : 4000) {
    const id = next++;
    set({ toasts: [...get().toasts.slice(-4), { id, kind, message }] });
    if (timeoutMs > 0) setTimeout(() => get().dismiss(id), timeoutMs);
    return id;
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export const toast = {
  success: (message: string) => useToastStore.getState().push("success", message),
  error: (message: string) => useToastStore.getState().push("error", message),
  info: (message: string) => useToastStore.getState().push("info", message),
};
