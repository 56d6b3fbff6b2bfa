import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ConclaveError } from '@conclave/contracts';

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Conclave</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Conclave</h1>
<p>The dashboard is not built. Run <code>npm run build</code> and reload this page.</p>
<p>The REST API is available under <a href="/api/v1/health"><code>/api/v1</code></a>.</p>
</body></html>
`;

/**
 * Serves WEB_DIST (vite's index.html + assets/) at `/`, with history-API fallback to index.html
 * for the dashboard's routes (/runs, /runs/:id, /templates, /templates/:id, /providers, /costs,
 * /fleet, /events) and any other extension-less GET that accepts HTML (outside /api, /socket.io).
 * Everything else that no route serves gets the 404 envelope. When WEB_DIST is missing, those
 * pages say the dashboard is not built.
 */
export function serveDashboard(app: NestExpressApplication, webDist: string): void {
  const indexHtml = join(webDist, 'index.html');
  const assets = express.static(webDist, {
    index: 'index.html',
    fallthrough: true,
    setHeaders: (res, path) => {
      // vite's hashed assets never change; index.html must be revalidated to pick up a new build
      res.setHeader('Cache-Control', path.includes(`${join(webDist, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  // the API and socket.io are never files: no file-system lookup on their way (it cost a stat per API request)
  app.use((req: Request, res: Response, next: NextFunction) => (isReserved(req.path) ? next() : assets(req, res, next)));
  app.use((req: Request, res: Response, next: NextFunction) => {
    const path = req.path;
    if (path.startsWith('/api/v1/')) return next(); // the REST API, including its own 404s
    const isPage =
      (req.method === 'GET' || req.method === 'HEAD') &&
      !isReserved(path) &&
      (path === '/' || (!lastSegment(path).includes('.') && req.accepts(['html', 'json']) === 'html'));
    if (!isPage) return next(new ConclaveError('not_found', `Cannot ${req.method} ${path}`));
    res.setHeader('Cache-Control', 'no-cache');
    if (!existsSync(indexHtml)) return void res.status(200).type('html').send(NOT_BUILT);
    res.sendFile(indexHtml, (err) => err && next(err));
  });
}

function isReserved(path: string): boolean {
  return path === '/api' || path.startsWith('/api/') || path === '/socket.io' || path.startsWith('/socket.io/');
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
