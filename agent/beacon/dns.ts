import { base32Lower } from '../../shared/identity.js';
import { BEACON_KIND, type Beacon } from './message.js';

/**
 * A beacon as a DNS name, for sites where only name resolution leaks out: every signed field but
 * the ones the receiver knows (its own zone as `target`, `dns` as method) travels in the labels,
 *   <sig, 2 labels of base32>.<ts in ms, base36>.<nonce>.<agent id without "ag-">.<alg>.<zone>
 * so the receiver (the zone's authoritative server) rebuilds the exact beacon and checks its
 * signature as for TCP and HTTP. The name fits the 253-character limit for zones up to ~70.
 */
const ALG_LABEL: Record<Beacon['alg'], string> = { ed25519: 'e', 'sm2-sm3': 's' };

export function beaconToName(beacon: Beacon): string {
  const sig = base32Lower(Buffer.from(beacon.sig, 'base64'));
  const half = Math.ceil(sig.length / 2);
  return [
    sig.slice(0, half),
    sig.slice(half),
    Date.parse(beacon.ts).toString(36),
    beacon.nonce,
    beacon.agent.slice(3),
    ALG_LABEL[beacon.alg],
    beacon.target,
  ].join('.');
}

/** The beacon a query name carries, or undefined when the name is not one. */
export function beaconFromName(name: string): Beacon | undefined {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length < 7) return undefined;
  const [sig1, sig2, ts36, nonce, agent, algLabel, ...zone] = labels as [
    string,
    string,
    string,
    string,
    string,
    string,
    ...string[],
  ];
  const alg = (Object.keys(ALG_LABEL) as Beacon['alg'][]).find((a) => ALG_LABEL[a] === algLabel);
  const sig = base32Decode(sig1 + sig2);
  const ms = Number.parseInt(ts36, 36);
  if (alg === undefined || sig === undefined || !Number.isSafeInteger(ms) || !/^[0-9a-f]{32}$/.test(nonce)) {
    return undefined;
  }
  return {
    v: 1,
    kind: BEACON_KIND,
    agent: `ag-${agent}`,
    alg,
    ts: new Date(ms).toISOString(),
    nonce,
    method: 'dns',
    target: zone.join('.'),
    sig: sig.toString('base64'),
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32Decode(text: string): Buffer | undefined {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) return undefined;
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The first question's name of a DNS query (RFC 1035 §4.1), without compression (queries have none). */
export function parseQuery(
  packet: Buffer,
): { id: number; name: string; end: number; qtype: number } | undefined {
  if (packet.length < 17 || packet.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    const length = packet[offset];
    if (length === undefined || length > 63) return undefined;
    offset += 1;
    if (length === 0) break;
    if (offset + length > packet.length) return undefined;
    labels.push(packet.subarray(offset, offset + length).toString('latin1'));
    offset += length;
    if (labels.length > 127) return undefined;
  }
  if (offset + 4 > packet.length) return undefined;
  return {
    id: packet.readUInt16BE(0),
    name: labels.join('.'),
    end: offset + 4,
    qtype: packet.readUInt16BE(offset),
  };
}

/** An answer to `query`: one A record (the beacon is known) or NXDOMAIN. */
export function answer(
  query: Buffer,
  parsed: { end: number; qtype: number },
  address: string | undefined,
): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  const withAnswer = address !== undefined && parsed.qtype === 1;
  // QR, AA, RD copied; RCODE 3 (NXDOMAIN) when there is nothing to answer.
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (address === undefined ? 3 : 0), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(withAnswer ? 1 : 0, 6);
  const question = query.subarray(12, parsed.end);
  if (!withAnswer) return Buffer.concat([header, question]);
  const record = Buffer.alloc(16);
  record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question
  record.writeUInt16BE(1, 2); // A
  record.writeUInt16BE(1, 4); // IN
  record.writeUInt32BE(0, 6); // TTL 0: every probe must reach the receiver again
  record.writeUInt16BE(4, 10);
  address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
  return Buffer.concat([header, question, record]);
}
