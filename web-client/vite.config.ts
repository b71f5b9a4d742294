import { defaultClientConditions, defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

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
 * - vite-plugin-pwa writes `manifest.webmanifest` (linked from index.html) and builds the
 *   service worker from `src/sw.ts` (`injectManifest`: our own worker, Workbox precaching of the
 *   app shell; docs/web-client.md "Offline, install and updates"). It registers nothing by
 *   itself (`injectRegister: false`, no inline script): `src/pwa/register.ts` does.
 */
export default defineConfig({
  plugins: [
    react(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      injectRegister: false,
      registerType: 'prompt',
      manifestFilename: 'manifest.webmanifest',
      manifest: {
        id: '/',
        name: 'CipherChat',
        short_name: 'CipherChat',
        description: 'End-to-end encrypted chat',
        start_url: '/chats',
        scope: '/',
        display: 'standalone',
        theme_color: '#2563eb',
        background_color: '#ffffff',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          {
            src: '/icons/icon-maskable-512.png',
            sizes: '512x512',
            type: 'image/png',
            purpose: 'maskable',
          },
        ],
      },
      injectManifest: {
        // The app shell: the entry, the hashed bundle, styles, WASM files, icons (the plugin
        // adds the manifest).
        globPatterns: ['**/*.{js,css,html,wasm,png}'],
        // The SDK bundle is about 1.3 MB; keep room for growth.
        maximumFileSizeToCacheInBytes: 6 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
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
