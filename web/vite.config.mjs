// Builds the page into web/dist, which the API serves at GET / (src/api/web.ts).
// `npm run dev:web` serves it with hot reload and forwards /graphql (HTTP and
// WebSocket) to an API on API_URL (default http://localhost:4000).
import { defineConfig } from 'vite';

const api = process.env.API_URL ?? 'http://localhost:4000';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: { '/graphql': { target: api, ws: true, changeOrigin: true } },
  },
});
