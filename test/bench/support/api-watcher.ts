/**
 * Runs beside a collector (inside its network namespace, started by detection-warning.bench.ts)
 * and tells its parent, line by line on stdout, the moment something appears in the HTTP API:
 *
 *   stdin `raised <event key>`  → stdout `event <key>` once GET /api/v1/events lists a raised
 *                                 event with that key, and `warning <key>` once GET
 *                                 /api/v1/warnings lists a warning for it (a warning implies
 *                                 its stored event, so `event` never comes after `warning`);
 *   stdin `cleared <event key>` → stdout `cleared <key>` once a cleared event with that key is listed.
 *
 * It polls only while something is awaited: one round of requests, then `interval` ms of rest.
 * The parent stamps each line as it arrives, so no clock is compared across processes.
 *   node --import tsx test/bench/support/api-watcher.ts --api http://H:P --type T [--interval MS]
 * The API key comes in $SMEW_API_KEY (never on a command line).
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    api: { type: 'string' },
    type: { type: 'string' },
    interval: { type: 'string', default: '5' },
  },
});
const api = values.api;
const type = values.type;
const apiKey = process.env.SMEW_API_KEY;
const interval = Number(values.interval);
if (!api || !type || !apiKey || !(interval >= 0)) {
  process.stderr.write(
    'api-watcher: expected --api URL, --type EVENT_TYPE, $SMEW_API_KEY and --interval MS ≥ 0\n',
  );
  process.exit(2);
}

interface ApiEvent {
  key: string;
  state: string;
}
interface ApiWarning {
  key: string;
}

const awaitedRaised = new Set<string>();
const awaitedWarning = new Set<string>();
const awaitedCleared = new Set<string>();
const idle = () => awaitedRaised.size + awaitedWarning.size + awaitedCleared.size === 0;
let wake: (() => void) | undefined;

async function list<T>(path: string): Promise<T[]> {
  const response = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
  if (!response.ok) {
    throw new Error(`api-watcher: GET ${path} answered ${response.status}: ${await response.text()}`);
  }
  return ((await response.json()) as { items: T[] }).items;
}

async function pollOnce(): Promise<void> {
  const wantEvents = awaitedRaised.size + awaitedCleared.size > 0;
  const [events, warnings] = await Promise.all([
    wantEvents ? list<ApiEvent>(`/api/v1/events?type=${encodeURIComponent(type!)}&limit=20`) : [],
    awaitedWarning.size > 0 ? list<ApiWarning>('/api/v1/warnings?limit=20') : [],
  ]);
  const seen: string[] = [];
  for (const event of events) {
    const awaited = event.state === 'raised' ? awaitedRaised : awaitedCleared;
    if (awaited.delete(event.key))
      seen.push(`${event.state === 'raised' ? 'event' : 'cleared'} ${event.key}`);
  }
  for (const warning of warnings) {
    // A warning grouped by [agent, key] has the key `<agent>|<event key>` (collector/rules/match.ts).
    const key = warning.key.slice(warning.key.indexOf('|') + 1);
    if (!awaitedWarning.delete(key)) continue;
    // Its event is stored by now (a warning comes from a stored event), even if the events
    // request, sent side by side with this one, was answered a moment before the commit.
    if (awaitedRaised.delete(key)) seen.push(`event ${key}`);
    seen.push(`warning ${key}`);
  }
  if (seen.length > 0) process.stdout.write(`${seen.join('\n')}\n`);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [what, key] = line.trim().split(' ');
  if (!key) return;
  if (what === 'raised') {
    awaitedRaised.add(key);
    awaitedWarning.add(key);
  } else if (what === 'cleared') awaitedCleared.add(key);
  wake?.();
});
process.stdin.on('end', () => process.exit(0));

for (;;) {
  if (idle()) await new Promise<void>((resolve) => (wake = resolve));
  wake = undefined;
  await pollOnce();
  if (!idle()) await new Promise((resolve) => setTimeout(resolve, interval));
}
