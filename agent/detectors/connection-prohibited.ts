import { severityForLevel } from '../../shared/levels.js';
import {
  cidrContains,
  isLoopback,
  isUnspecified,
  parseCidr,
  parseIp,
  type Cidr,
  type IpAddress,
} from '../../shared/net/cidr.js';
import type { Policy } from '../../shared/policy.js';
import type { SocketEntry } from '../probes/observations.js';
import type { Detector, Finding } from './finding.js';

/** At most this many findings per pass, so a scanner or a P2P client cannot flood the outbox. */
export const MAX_CONNECTION_FINDINGS = 64;

/**
 * `net.connection.prohibited` (违规外联, 第41条): a TCP connection (established, or being opened:
 * on an isolated network an outside SYN is never answered, so the attempt is the evidence) or a
 * connected UDP socket whose peer is outside policy.network.allowedCidrs. IPv4 and IPv6 both;
 * a dual-stack socket's ::ffff:a.b.c.d peer is matched as a.b.c.d. Loopback is always allowed.
 *
 * An empty allowedCidrs allows nothing but loopback, like every other empty list in the policy:
 * an unconfigured host reports every outside peer (its own collector included) until the unit
 * lists its ranges. The cap keeps that bounded. Entries that are not valid CIDRs allow nothing.
 *
 * One finding per (protocol, peer, port, owning process): local ports change with every new
 * connection and would make each reconnect a new event. Findings are ordered by peer and capped at
 * MAX_CONNECTION_FINDINGS, so the same ones are kept from pass to pass.
 */
export const connectionProhibitedDetector: Detector = {
  name: 'connection-prohibited',
  types: ['net.connection.prohibited'],
  needs: ['sockets'],
  detect(observations, policy) {
    const allowed = allowedCidrs(policy);
    const severity = severityForLevel('high', policy.level);
    const findings = new Map<string, Finding>();
    for (const socket of sortSockets(observations.sockets ?? [])) {
      const remote = prohibitedPeer(socket.remote, allowed);
      if (remote === undefined) continue;
      const endpoint =
        remote.family === 6
          ? `[${socket.remote}]:${socket.remotePort}`
          : `${socket.remote}:${socket.remotePort}`;
      const key = `net.connection.prohibited:${socket.proto}:${endpoint}:${socket.pid ?? 'unknown'}`;
      if (findings.has(key)) continue;
      if (findings.size >= MAX_CONNECTION_FINDINGS) break;
      const data: Record<string, unknown> = {
        remote: socket.remote,
        port: socket.remotePort,
        proto: socket.proto,
      };
      if (socket.pid !== undefined) data.pid = socket.pid;
      if (socket.process !== undefined) data.process = socket.process;
      findings.set(key, { type: 'net.connection.prohibited', key, severity, data });
    }
    return [...findings.values()];
  },
};

/** The policy's allowed ranges; entries that are not valid CIDRs allow nothing. */
export function allowedCidrs(policy: Policy): Cidr[] {
  return policy.network.allowedCidrs
    .map((entry) => parseCidr(entry))
    .filter((cidr): cidr is Cidr => cidr !== undefined);
}

/** The peer address when it is prohibited: not loopback, not unspecified, in no allowed range. */
export function prohibitedPeer(remoteText: string, allowed: readonly Cidr[]): IpAddress | undefined {
  const remote = parseIp(remoteText);
  if (remote === undefined || isLoopback(remote) || isUnspecified(remote)) return undefined;
  return allowed.some((cidr) => cidrContains(cidr, remote)) ? undefined : remote;
}

function sortSockets(sockets: readonly SocketEntry[]): SocketEntry[] {
  const text = (s: SocketEntry) =>
    `${s.remote}\u0000${String(s.remotePort).padStart(5, '0')}\u0000${s.proto}`;
  return [...sockets].sort((a, b) => {
    const ta = text(a);
    const tb = text(b);
    return ta < tb ? -1 : ta > tb ? 1 : (a.pid ?? Infinity) - (b.pid ?? Infinity);
  });
}
