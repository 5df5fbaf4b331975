// TanStack Query is the one store of the host's data: each query is defined once here (with
// `queryOptions`), and live pushes (src/live/useLiveUpdates.ts) update these cache entries.

export * from "./accounts";
export * from "./catalog";
export * from "./keys";
export * from "./pluginMutations";
export * from "./plugins";
export * from "./servers";
