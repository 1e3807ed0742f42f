import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { formatIp, ipv4FromBytes, ipv6FromBytes, isLoopback, parseIp } from '../../shared/net/cidr.js';
import type { SocketEntry } from './observations.js';
import type { Probe } from './probe.js';
import { hexBytes, hostWord } from './routes.js';
import { listNames, readlinkOrUndefined, readText } from './sysfs-files.js';

/**
 * Sockets with a peer, from /proc/net/{tcp,tcp6,udp,udp6}, and the process owning each: the
 * kernel tables name only an inode, so /proc/<pid>/fd/* links (`socket:[inode]`) are read to find
 * the owner, and /proc/<pid>/comm to name it. Owners are looked up only when some peer is not
 * loopback, since only those can matter, and walking every fd of every process costs.
 */
export const socketsProbe: Probe = {
  name: 'sockets',
  provides: ['sockets'],
  async collect(paths) {
    return { sockets: await readSockets(paths.procfs) };
  },
};

/** include/net/tcp_states.h */
const TCP_STATES: Record<number, string> = {
  1: 'established',
  2: 'syn-sent',
  3: 'syn-recv',
  4: 'fin-wait1',
  5: 'fin-wait2',
  6: 'time-wait',
  7: 'close',
  8: 'close-wait',
  9: 'last-ack',
  10: 'listen',
  11: 'closing',
  12: 'new-syn-recv',
};
/**
 * States where a peer is live. SYN-SENT counts: on an isolated network an outside connection never
 * gets further, so the attempt is the evidence. TIME-WAIT has no owner left and LISTEN no peer.
 */
const TCP_WITH_PEER = new Set([1, 2, 3, 4, 5, 8, 9, 11, 12]);
/** A UDP socket shows ESTABLISHED once connect() gave it a fixed peer. */
const UDP_CONNECTED = 1;

export async function readSockets(
  procfs: string,
  byteOrder: 'LE' | 'BE' = endianness(),
): Promise<SocketEntry[]> {
  const sockets = await readSocketTables(procfs, byteOrder);
  const wanted = new Set(
    sockets.filter((s) => !isLoopback(parseIp(s.remote) ?? { family: 4, value: 0n })).map((s) => s.inode),
  );
  wanted.delete(0);
  if (wanted.size > 0) {
    const owners = await findOwners(procfs, wanted);
    for (const socket of sockets) {
      const owner = owners.get(socket.inode);
      if (owner === undefined) continue;
      socket.pid = owner.pid;
      if (owner.process !== undefined) socket.process = owner.process;
    }
  }
  return sockets;
}

/**
 * The four kernel tables, parsed, without owners: cheap enough to read several times a second
 * (the socket watch, agent/watch/socket-watch.ts). A table that cannot be read counts as empty.
 */
export async function readSocketTables(
  procfs: string,
  byteOrder: 'LE' | 'BE' = endianness(),
): Promise<SocketEntry[]> {
  const tables = (['tcp', 'tcp6', 'udp', 'udp6'] as const).map((table) => {
    const text = readTextNow(join(procfs, 'net', table));
    return parseRememberedTable(text, table, byteOrder, `${procfs}\u0000${table}\u0000${byteOrder}`);
  });
  return tables.flat();
}

/**
 * A socket table's text, or '' when it cannot be read. Read synchronously: the kernel writes these
 * files from memory as they are read, and four thread-pool round trips (open, stat, read, close
 * each) twice a second cost the idle agent more than the reading itself.
 */
function readTextNow(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Each table's lines as last read and what they parsed to. The socket watch reads the tables twice
 * a second, and on a quiet host most lines come back byte for byte: those are not parsed again
 * (that parsing was most of the agent's idle CPU). Only the last read is kept, so this holds no
 * more than the tables themselves.
 */
const lastRead = new Map<string, Map<string, SocketEntry | undefined>>();

function parseRememberedTable(
  text: string,
  table: 'tcp' | 'tcp6' | 'udp' | 'udp6',
  byteOrder: 'LE' | 'BE',
  key: string,
): SocketEntry[] {
  const before = lastRead.get(key);
  const now = new Map<string, SocketEntry | undefined>();
  const entries: SocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const entry = before?.has(line) ? before.get(line) : parseSocketLine(line, table, byteOrder);
    now.set(line, entry);
    // A copy: readSockets adds the owner to what it gets, which must not stick to the next read.
    if (entry !== undefined) entries.push({ ...entry });
  }
  lastRead.set(key, now);
  return entries;
}

/**
 * One table: a header line, then `sl: local rem st tx:rx tr:when retr uid timeout inode …`.
 * Addresses are `HEX:PORT`; IPv4 is one 32-bit host-order word, IPv6 four of them.
 */
export function parseSocketTable(
  text: string,
  table: 'tcp' | 'tcp6' | 'udp' | 'udp6',
  byteOrder: 'LE' | 'BE' = endianness(),
): SocketEntry[] {
  const entries: SocketEntry[] = [];
  for (const line of text.split('\n').slice(1)) {
    const entry = parseSocketLine(line, table, byteOrder);
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

/** One line of a table; undefined when it is malformed or has no live peer. */
function parseSocketLine(
  line: string,
  table: 'tcp' | 'tcp6' | 'udp' | 'udp6',
  byteOrder: 'LE' | 'BE',
): SocketEntry | undefined {
  const proto = table.startsWith('tcp') ? 'tcp' : 'udp';
  const family = table.endsWith('6') ? 6 : 4;
  const fields = line.trim().split(/\s+/);
  if (fields.length < 10) return undefined;
  const local = parseEndpoint(fields[1]!, family, byteOrder);
  const remote = parseEndpoint(fields[2]!, family, byteOrder);
  const state = Number.parseInt(fields[3]!, 16);
  const inode = Number(fields[9]);
  if (local === undefined || remote === undefined || !Number.isInteger(inode)) return undefined;
  if (proto === 'tcp' ? !TCP_WITH_PEER.has(state) : state !== UDP_CONNECTED) return undefined;
  if (remote.port === 0 || remote.address === '0.0.0.0' || remote.address === '::') return undefined;
  return {
    proto,
    family,
    local: local.address,
    localPort: local.port,
    remote: remote.address,
    remotePort: remote.port,
    state: TCP_STATES[state] ?? String(state),
    inode,
  };
}

function parseEndpoint(
  text: string,
  family: 4 | 6,
  byteOrder: 'LE' | 'BE',
): { address: string; port: number } | undefined {
  const [hex, portHex] = text.split(':');
  if (hex === undefined || portHex === undefined || !/^[0-9a-fA-F]{4}$/.test(portHex)) return undefined;
  const port = Number.parseInt(portHex, 16);
  if (family === 4) {
    const bytes = hostWord(hex, byteOrder);
    return bytes === undefined ? undefined : { address: formatIp(ipv4FromBytes(bytes)), port };
  }
  if (hexBytes(hex, 16) === undefined) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...hostWord(hex.slice(i, i + 8), byteOrder)!);
  // ipv6FromBytes folds ::ffff:a.b.c.d to a.b.c.d, so dual-stack peers read as IPv4.
  return { address: formatIp(ipv6FromBytes(bytes)), port };
}

async function findOwners(
  procfs: string,
  wanted: ReadonlySet<number>,
): Promise<Map<number, { pid: number; process?: string }>> {
  const owners = new Map<number, { pid: number; process?: string }>();
  // Lowest pid first, so a socket shared across fork() is always credited to the same process.
  const pids = (await listNames(procfs))
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(a) - Number(b));
  for (const name of pids) {
    const fdDir = join(procfs, name, 'fd');
    // Processes come and go, and others' fds need privilege: each unreadable one is skipped.
    const links = await Promise.all(
      (await listNames(fdDir)).map((fd) => readlinkOrUndefined(join(fdDir, fd))),
    );
    const inodes = links
      .map((link) => /^socket:\[(\d+)\]$/.exec(link ?? '')?.[1])
      .filter((inode): inode is string => inode !== undefined)
      .map(Number)
      .filter((inode) => wanted.has(inode) && !owners.has(inode));
    if (inodes.length === 0) continue;
    const comm = await readText(join(procfs, name, 'comm'));
    for (const inode of inodes) {
      owners.set(inode, comm === undefined ? { pid: Number(name) } : { pid: Number(name), process: comm });
    }
    if (owners.size === wanted.size) break;
  }
  return owners;
}
