/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { build, defineConfig, type Plugin } from "vite";

// `npm run dev` serves the UI with hot module replacement and forwards the API and the
// WebSocket to a Catalyst started with `make run` (http://127.0.0.1:3000).
const backend = "http://127.0.0.1:3000";

/**
 * After the admin UI is built, build the runtime of sandboxed plugin frames into
 * `dist/sandbox/runtime.{js,css}`: one classic (IIFE) script with its own React, because a
 * `sandbox="allow-scripts"` frame has an opaque origin and may load classic scripts and
 * stylesheets from the host without CORS (module scripts would need CORS headers). Paths are
 * relative to the working directory: `npm run build` runs in `frontend/`.
 */
function sandboxRuntime(): Plugin {
  return {
    name: "catalyst-sandbox-runtime",
    apply: "build",
    async closeBundle() {
      await build({
        configFile: false,
        logLevel: "warn",
        publicDir: false,
        plugins: [react()],
        define: { "process.env.NODE_ENV": JSON.stringify("production") },
        build: {
          outDir: "dist/sandbox",
          emptyOutDir: true,
          sourcemap: true,
          chunkSizeWarningLimit: 600,
          lib: {
            entry: "src/sandbox/runtime.tsx",
            formats: ["iife"],
            name: "CatalystSandboxRuntime",
            fileName: () => "runtime.js",
            cssFileName: "runtime",
          },
        },
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), sandboxRuntime()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": backend,
      "/ws": { target: backend, ws: true },
      // The sandbox runtime of process plugins' frames, as the backend serves it from the last
      // `npm run build` (the dev server does not build it).
      "/sandbox": backend,
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
