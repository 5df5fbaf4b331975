// The document of a sandboxed plugin frame (its `srcdoc`): the sandbox runtime, served by the
// host as a classic script and a stylesheet (an opaque-origin document may load those without
// CORS), and an empty root. The runtime says "ready"; the host then sends the plugin's module.

import type { Theme } from "./protocol";

/** Built by `npm run build` next to the admin UI (see vite.config.ts). */
export const RUNTIME_SCRIPT = "/sandbox/runtime.js";
export const RUNTIME_STYLES = "/sandbox/runtime.css";

/** `allow-scripts` only: an opaque origin (no cookies, storage or DOM of the admin page), no
 * top navigation, popups, forms or modals. */
export const SANDBOX_FLAGS = "allow-scripts";

function attr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

export function frameDocument(origin: string, theme: Theme, version: string): string {
  const v = encodeURIComponent(version);
  return [
    "<!doctype html>",
    `<html lang="en" data-theme="${attr(theme)}" class="catalyst-sandbox">`,
    '<head><meta charset="utf-8">',
    `<link rel="stylesheet" href="${attr(`${origin}${RUNTIME_STYLES}?v=${v}`)}">`,
    "</head>",
    '<body><div id="root"></div>',
    `<script src="${attr(`${origin}${RUNTIME_SCRIPT}?v=${v}`)}"></script>`,
    "</body></html>",
  ].join("");
}
