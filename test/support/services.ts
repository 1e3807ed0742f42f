import { connect } from 'node:net';

/**
 * Whether a local service (Mosquitto, PostgreSQL) answers. In CI (CI=true) a missing service is a
 * failure, not a skip: a green run must mean the real thing was exercised.
 */
export function portOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function requireService(name: string, port: number): Promise<boolean> {
  if (await portOpen(port)) return true;
  const message = `${name} is not answering on 127.0.0.1:${port}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must run it (see .ci/run)`);
  console.warn(`SKIP: ${message}; start it to run these tests`);
  return false;
}
