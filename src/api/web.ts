import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { type Express } from 'express';

/**
 * The page "Factures et avoirs" (web/, docs/frontend.md): its built files from
 * web/dist, index at GET /, on the same origin as /graphql so that it needs
 * no CORS and no other host. Nothing here imports from web/: the page is a
 * client of the API like any other, and only its build output is served.
 */

// src/api/web.ts runs from the sources (npm start) or from dist/src/api/web.js (the image).
const CANDIDATES = [path.resolve(__dirname, '../../web/dist'), path.resolve(__dirname, '../../../web/dist')];

export function webDistDir(): string | undefined {
  return CANDIDATES.find((dir) => existsSync(path.join(dir, 'index.html')));
}

// The page loads only its own files and talks only to its own origin
// (HTTP and WebSocket /graphql); downloads are navigations to the storage.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

export function mountWeb(app: Express): void {
  app.get(['/', '/index.html'], (_req, res) => {
    const dir = webDistDir();
    res.set('Cache-Control', 'no-cache');
    if (!dir) {
      res.status(503).type('text/plain').send('The page is not built: run `npm run build:web` (npm ci does it), then reload.\n');
      return;
    }
    res.set({ 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    res.sendFile(path.join(dir, 'index.html'));
  });
  // Hashed file names: cached for good. Looked up at each request, so that a
  // build made after the start (npm run build:web) is served without a restart.
  const statics = new Map<string, express.RequestHandler>();
  app.use('/assets', (req, res, next) => {
    const dir = webDistDir();
    if (!dir) return next();
    let serve = statics.get(dir);
    if (!serve) {
      serve = express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '1y', index: false });
      statics.set(dir, serve);
    }
    return serve(req, res, () => {
      // A missing asset: a plain 404, not Express's error page (which shows a stack outside production).
      res.status(404).type('text/plain').send('Not found\n');
    });
  });
}
