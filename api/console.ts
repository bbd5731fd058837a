/**
 * The built-in web console at `/`: the static files `npm run build` writes to `dist/console/`
 * (sources in console/). They are served before the token check, since the page has to load to ask
 * for the token; they hold no data, and every API call the page makes needs the token like any
 * other client. Hash routing (`/#/capacity`) means no path but `/` and its assets is ever asked for.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import express, { type RequestHandler } from 'express';

/** The repository (or installed package) root: the nearest folder above this module with a package.json. */
function packageRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
  return dir;
}

/** Where the built console is, whether flowcast runs from dist/ or from its TypeScript sources. */
export const CONSOLE_DIR = join(packageRoot(import.meta.dirname), 'dist', 'console');

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>flowcast</title>
<p>The flowcast console is not built. Run <code>npm run build</code> (or <code>npm start</code>, which
builds first) and reload. The API is at <a href="/api/docs">/api/docs</a>.</p></html>
`;

/** Serves the console's files; `/` explains how to build it when they are missing. */
export function consoleStatic(dir: string = CONSOLE_DIR): RequestHandler {
  const files = express.static(dir, { index: 'index.html', fallthrough: true, maxAge: 0 });
  return (req, res, next) => {
    if (req.path.startsWith('/api/') || req.path === '/metrics') return next();
    if (req.path === '/' && !existsSync(join(dir, 'index.html'))) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    files(req, res, next);
  };
}
