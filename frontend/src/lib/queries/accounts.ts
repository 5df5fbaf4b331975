// The queries and mutations of `/api/users`, `/api/roles` and `/api/audit`.

import { keepPreviousData, queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, apiWithMessage } from "../api";
import type { Account, AccountList, AccountWithPassword, AuditPage, RoleInfo, RoleList } from "../types";
import { keys } from "./keys";

export interface AuditFilters {
  actor?: string;
  action?: string;
  target?: string;
  /** ISO 8601 times. */
  since?: string;
  until?: string;
}

export const AUDIT_PAGE_SIZE = 50;

export function accountsQuery() {
  return queryOptions({
    queryKey: keys.users,
    queryFn: ({ signal }) => api<AccountList>("/api/users", { query: { limit: 500 }, signal }),
  });
}

export function rolesQuery() {
  return queryOptions({
    queryKey: keys.roles,
    queryFn: ({ signal }) => api<RoleList>("/api/roles", { signal }),
  });
}

export function auditQuery(filters: AuditFilters, cursor: number | null) {
  return queryOptions({
    queryKey: keys.auditPage(filters, cursor),
    queryFn: ({ signal }) =>
      api<AuditPage>("/api/audit", {
        query: { ...filters, limit: AUDIT_PAGE_SIZE, cursor: cursor ?? undefined },
        signal,
      }),
    placeholderData: keepPreviousData,
  });
}

export function useAccounts() {
  return useQuery(accountsQuery());
}

export function useRoles() {
  return useQuery(rolesQuery());
}

export function useAuditLog(filters: AuditFilters, cursor: number | null) {
  return useQuery(auditQuery(filters, cursor));
}

/** Every account change refreshes the accounts, the roles (their user counts) and the audit. */
function useAccountMutation<TVars, TData>(fn: (vars: TVars) => Promise<{ data: TData; message: string | undefined }>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSettled: () => {
      void client.invalidateQueries({ queryKey: keys.users });
      void client.invalidateQueries({ queryKey: keys.roles });
      void client.invalidateQueries({ queryKey: keys.audit });
    },
  });
}

export function useCreateAccount() {
  return useAccountMutation((body: { username: string; role: string; password?: string }) =>
    apiWithMessage<AccountWithPassword>("/api/users", { method: "POST", body }),
  );
}

export function useSetRole() {
  return useAccountMutation(({ id, role }: { id: number; role: string }) =>
    apiWithMessage<Account>(`/api/users/${id}/role`, { method: "PUT", body: { role } }),
  );
}

export function useSetEnabled() {
  return useAccountMutation(({ id, enabled }: { id: number; enabled: boolean }) =>
    apiWithMessage<Account>(`/api/users/${id}/${enabled ? "enable" : "disable"}`, { method: "POST" }),
  );
}

export function useResetPassword() {
  return useAccountMutation(({ id, password }: { id: number; password?: string }) =>
    apiWithMessage<AccountWithPassword>(`/api/users/${id}/password`, {
      method: "POST",
      body: password ? { password } : {},
    }),
  );
}

export function useCreateRole() {
  return useAccountMutation((body: { name: string; description: string; permissions: string[] }) =>
    apiWithMessage<RoleInfo>("/api/roles", { method: "POST", body }),
  );
}

export function useUpdateRole() {
  return useAccountMutation(
    ({ name, ...body }: { name: string; description?: string; permissions?: string[] }) =>
      apiWithMessage<RoleInfo>(`/api/roles/${encodeURIComponent(name)}`, { method: "PATCH", body }),
  );
}
