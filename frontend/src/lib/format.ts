export function parseTime(value: string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatDateTime(value: string | number | null | undefined): string {
  const date = parseTime(value);
  return date ? date.toLocaleString() : "—";
}

export function formatTime(value: string | number | null | undefined): string {
  const date = parseTime(value);
  return date ? date.toLocaleTimeString() : "—";
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function formatRelative(value: string | number | null | undefined, now = Date.now()): string {
  const date = parseTime(value);
  if (!date) return "—";
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (Math.abs(seconds) < 5) return "just now";
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") {
      return format.format(Math.round(seconds / size), unit);
    }
  }
  return date.toLocaleString();
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** A plugin's title: its display name, or its folder name when the manifest leaves it blank. */
export function pluginTitle(plugin: { name: string; displayName?: string | null }): string {
  return plugin.displayName?.trim() || plugin.name;
}

/**
 * The error line shown above a plugin's manifest problems, or null for none. The host's error is
 * the first problem (plus "and N more"): repeating it over the list would show it twice.
 */
export function errorHeadline(
  error: string | null | undefined,
  problems: readonly { path: string; message: string }[],
): string | null {
  if (!error) return null;
  const first = problems[0];
  if (!first) return error;
  const text = first.path ? `${first.path}: ${first.message}` : first.message;
  if (error !== text && !error.startsWith(`${text} (and `)) return error;
  return problems.length === 1 ? "plugin.json has a problem:" : `plugin.json has ${problems.length} problems:`;
}
