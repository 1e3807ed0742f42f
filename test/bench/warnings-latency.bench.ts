/**
 * Time from an agent publishing a signed event to the webhook receiving the warning's
 * notification: MQTT → ingest (verify, store) → rules stage → outbox → HTTP POST, on an
 * in-process collector (embedded broker, SQLite). Each round raises a new condition, so each
 * opens a warning of its own. Run: npx tsx test/bench/warnings-latency.bench.ts [ROUNDS=50]
 */
import { eventually } from '../support/eventually.js';
import { WarningsSite } from '../support/warnings-site.js';

const ROUNDS = Number(process.env.ROUNDS ?? 50);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const site = await WarningsSite.start();
try {
  const host = await site.addAgent();
  const latencies: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const before = site.receiver.received.length;
    const t0 = performance.now();
    await host.publish({
      key: `net.wireless.present:wlan${i}`,
      data: { iface: `wlan${i}`, mac: '00:11:22:33:44:55', driver: 'x' },
    });
    const hit = await eventually(
      () => site.receiver.received.length > before && site.receiver.received[before]!,
      {
        intervalMs: 1,
        what: `notification ${i}`,
      },
    );
    latencies.push(hit.at - t0);
  }
  latencies.sort((a, b) => a - b);
  console.log(
    `event → webhook notification over ${ROUNDS} warnings: median ${percentile(latencies, 50).toFixed(1)} ms, ` +
      `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies[latencies.length - 1]!.toFixed(1)} ms`,
  );
} finally {
  await site.stop();
}
