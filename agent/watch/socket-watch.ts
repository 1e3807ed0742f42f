import type { Logger } from '../../shared/log.js';
import type { Cidr } from '../../shared/net/cidr.js';
import type { Policy } from '../../shared/policy.js';
import { allowedCidrs, prohibitedPeer } from '../detectors/connection-prohibited.js';
import type { SocketEntry } from '../probes/observations.js';
import { readSocketTables } from '../probes/sockets.js';

/**
 * Sockets have no netlink notice (sock_diag answers queries, it does not announce), so a new
 * connection would wait for the periodic scan. This watch reads /proc/net/{tcp,tcp6,udp,udp6}
 * every `intervalMs` — without the owner walk over /proc/<pid>/fd that a scan does — and fires
 * when the set of connections to prohibited peers changes, in either direction, so a connection
 * is raised and cleared promptly. The scan it triggers reads the host afresh and decides what is
 * reported; a host that churns such connections scans at most once per interval.
 */

/**
 * The sockets with a prohibited peer, each by its whole connection (proto, local and remote
 * endpoints). By peer alone a new connection would go unseen while an old one to the same peer
 * lingers (FIN-WAIT, CLOSE-WAIT), as would a second process reaching a peer another one already
 * reaches; the detector reports those, so the watch must notice them.
 */
export function prohibitedConnections(
  sockets: readonly SocketEntry[],
  allowed: readonly Cidr[],
): Set<string> {
  const connections = new Set<string>();
  for (const socket of sockets) {
    if (prohibitedPeer(socket.remote, allowed) === undefined) continue;
    connections.add(
      `${socket.proto} ${socket.local} ${socket.localPort} ${socket.remote} ${socket.remotePort}`,
    );
  }
  return connections;
}

/** Whether the prohibited connections differ between two reads of the tables under one policy. */
export function prohibitedPeersChanged(
  before: readonly SocketEntry[],
  after: readonly SocketEntry[],
  policy: Policy,
): boolean {
  const allowed = allowedCidrs(policy);
  return !sameSet(prohibitedConnections(before, allowed), prohibitedConnections(after, allowed));
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const item of a) if (!b.has(item)) return false;
  return true;
}

export interface SocketWatch {
  /** False once the tables could not be read: connections then wait for the periodic scan. */
  active(): boolean;
  stop(): void;
}

export function startSocketWatch(options: {
  procfs: string;
  intervalMs: number;
  policy: () => Policy;
  onChange: () => void;
  logger: Logger;
  /** Instead of reading the kernel tables; tests inject readings. */
  read?: (procfs: string) => Promise<SocketEntry[]>;
}): SocketWatch {
  const read = options.read ?? ((procfs: string) => readSocketTables(procfs));
  let last: Set<string> | undefined;
  let lastPolicy: Policy | undefined;
  let allowed: Cidr[] = [];
  let reading = false;
  let working = true;
  let stopped = false;

  async function tick(): Promise<void> {
    // A slow read (a busy host) is skipped over, never stacked.
    if (reading || stopped) return;
    reading = true;
    try {
      const policy = options.policy();
      if (policy !== lastPolicy) {
        // A new policy moves the line between allowed and prohibited: the scan it brings decides.
        lastPolicy = policy;
        allowed = allowedCidrs(policy);
        last = undefined;
      }
      const connections = prohibitedConnections(await read(options.procfs), allowed);
      if (stopped) return;
      if (last !== undefined && !sameSet(last, connections)) options.onChange();
      last = connections;
      if (!working) options.logger.info({ source: 'sockets' }, 'socket tables readable again');
      working = true;
    } catch (err) {
      if (working) {
        options.logger.warn(
          { source: 'sockets', err },
          'socket tables unreadable; connections are found by the periodic scan',
        );
      }
      working = false;
    } finally {
      reading = false;
    }
  }

  void tick();
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  return {
    active: () => working,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
