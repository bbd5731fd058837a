/**
 * The interactive API reference at /api/docs: Swagger UI from the swagger-ui-dist npm package,
 * every asset served by flowcast itself (flowcast runs in networks without internet access), with
 * a page and start-up script of our own so that nothing is inline (helmet's Content-Security-Policy
 * forbids inline scripts) and nothing points elsewhere (the validator badge is off).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Request, Response } from 'express';

const require = createRequire(import.meta.url);
const DIST = dirname(require.resolve('swagger-ui-dist/package.json'));

/** The Swagger UI files served, with their content types. */
export const DOCS_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>flowcast API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/api/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/swagger-ui-standalone-preset.js"></script>
<script src="/api/docs/flowcast-init.js"></script>
</body>
</html>
`;

const INIT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: 'StandaloneLayout',
  });
});
`;

/** Files read once, at first use. */
const cache = new Map<string, Buffer>();

function asset(name: string): Buffer {
  let data = cache.get(name);
  if (data === undefined) {
    data = readFileSync(join(DIST, name));
    cache.set(name, data);
  }
  return data;
}

/** GET /api/docs: the reference page. */
export function docsPage(_req: Request, res: Response): void {
  res.type('html').send(PAGE);
}

/** GET /api/docs/{file}: one asset (404 for anything not listed). */
export function docsAsset(req: Request, res: Response): void {
  const name = String(req.params['file'] ?? '');
  if (name === 'flowcast-init.js') {
    res.type('text/javascript; charset=utf-8').send(INIT);
    return;
  }
  const type = Object.hasOwn(DOCS_ASSETS, name) ? DOCS_ASSETS[name] : undefined;
  if (type === undefined) {
    res.status(404).json({ error: { code: 'not_found', message: `no such documentation file: ${name}` } });
    return;
  }
  res.set('Cache-Control', 'public, max-age=86400').type(type).send(asset(name));
}
