import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the dashboard (built by scripts/build-dashboard.mjs into dist/dashboard) from memory at
 * the collector's root, and sets the browser security headers on every response: a strict
 * Content-Security-Policy (nothing inline, nothing from elsewhere: the network is air-gapped and
 * agent text is hostile), no MIME sniffing, no framing.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "media-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** An onSend hook for the root instance, so every response carries the headers. */
export async function addSecurityHeaders<P>(
  _request: unknown,
  reply: { header(name: string, value: string): unknown },
  payload: P,
): Promise<P> {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
  return payload;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wav': 'audio/wav',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** Where the build puts the dashboard, from this file in the source tree or in dist/. */
export function defaultDashboardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../../dashboard'), resolve(here, '../../dist/dashboard')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[1]!;
}

/** The built files, read once: a handful of small files, so memory beats a file handler. */
export function loadDashboardAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(join(dir, 'index.html'))) return assets;
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else {
        const type = CONTENT_TYPES[extname(name)];
        if (type) assets.set(rel, { body: readFileSync(join(dir, rel)), type });
      }
    }
  };
  walk('');
  return assets;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>smew</title>
<p>控制台尚未构建：请运行 <code>npm run build</code>。</p>
<p>The dashboard is not built: run <code>npm run build</code>.</p>`;

export function dashboardRoutes(dir: string = defaultDashboardDir()) {
  const assets = loadDashboardAssets(dir);
  return async (app: FastifyInstance) => {
    app.get(
      '/',
      {
        config: { permission: 'public' },
        schema: { summary: 'The dashboard (HTML page)', tags: ['dashboard'], produces: ['text/html'] },
      },
      async (_request, reply) => {
        const index = assets.get('index.html');
        reply.header('cache-control', 'no-cache');
        if (!index) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
        return reply.type(index.type).send(index.body);
      },
    );
    app.get<{ Params: { name: string } }>(
      '/assets/:name',
      {
        config: { permission: 'public' },
        schema: {
          summary: 'A dashboard asset (script, style sheet, icon, sound)',
          tags: ['dashboard'],
          params: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', maxLength: 100 } },
          },
        },
      },
      async (request, reply) => {
        const asset = assets.get(`assets/${request.params.name}`);
        if (!asset) return reply.code(404).send({ error: `no dashboard asset ${request.params.name}` });
        reply.header('cache-control', 'no-cache');
        return reply.type(asset.type).send(asset.body);
      },
    );
  };
}
