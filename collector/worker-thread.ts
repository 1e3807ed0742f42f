import { Worker } from 'node:worker_threads';

/**
 * A worker thread running the module `name` that sits beside `moduleUrl` (pass `import.meta.url`):
 * its .js when built; its .ts when run from source (tests, benchmarks via tsx), the thread then
 * registering tsx itself before loading it, since execArgv hooks do not reach a worker.
 */
export function siblingWorker(moduleUrl: string, name: string): Worker {
  const here = new URL(moduleUrl);
  const fromSource = here.pathname.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, here);
  if (!fromSource) return new Worker(url);
  const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { eval: true });
}
