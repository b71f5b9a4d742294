import { defaultClientConditions, defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Where the dev server forwards `/api` and `/socket.io`: the nginx edge of `npm start` by
 * default, so the browser sees one origin exactly as in production.
 */
const proxyTarget = process.env.CIPHERCHAT_PROXY_TARGET ?? 'http://localhost:8080';

/**
 * Vite config of the web client.
 * - `source` comes first in `resolve.conditions`, so `@cipherchat/*` resolve to their
 *   TypeScript sources (no separate build of packages/client is needed).
 * - The build lands in `web-client/dist` with content-hashed files under `/assets/`, which
 *   nginx serves with long cache lifetimes; `index.html` has no inline script or style, so
 *   the strict CSP (`script-src 'self'`, `style-src 'self'`) holds.
 */
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    // Vite would inline small assets as data: URLs; keep them as files so the CSP stays simple.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
  },
  server: {
    port: 5173,
    strictPort: false,
    proxy: {
      '/api': {
        target: proxyTarget,
        // Dev only: the services check the Origin of state-changing requests against their
        // public origin (the nginx edge), so present the edge's origin, not localhost:5173.
        configure: (proxy) => {
          proxy.on('proxyReq', (req) => req.setHeader('origin', new URL(proxyTarget).origin));
        },
      },
      '/socket.io': { target: proxyTarget, ws: true },
    },
  },
});
