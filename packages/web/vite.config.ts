/**
 * Builds the dashboard into dist/, which the hub serves at `/` (and at every unknown non-API path, so deep
 * links work). `npm run dev -w @clawtower/web` proxies the API to a running hub (CLAWTOWER_API, default
 * http://127.0.0.1:14681, e.g. `clawtower serve --demo --port 14681`).
 */
import { defineConfig } from "vite";

const api = process.env["CLAWTOWER_API"] ?? "http://127.0.0.1:14681";

export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // One small bundle: a second round trip would cost more than the bytes it saves.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: false },
      "/healthz": { target: api },
    },
  },
});
