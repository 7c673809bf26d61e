import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import { mountWeb, webDistDir } from '../../src/api/web';

/** GET / of the API: the built page with a same-origin-only policy, its assets cached for good. */
const built = existsSync(path.join(__dirname, '..', '..', 'web', 'dist', 'index.html'));
(built ? describe : describe.skip)('the page served by the API (src/api/web.ts)', () => {
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    mountWeb(app);
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  test('GET / is the page, no-cache, loading only its own origin', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toContain('<title>Factures et avoirs</title>');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1];
    const asset = await fetch(`${base}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect(html).not.toMatch(/https?:\/\//); // no CDN
  });

  test('an unknown asset is a 404, not the page', async () => {
    const res = await fetch(`${base}/assets/nope.js`);
    expect(res.status).toBe(404);
    expect(webDistDir()).toBeDefined();
  });
});
