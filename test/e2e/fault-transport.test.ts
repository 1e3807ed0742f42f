import { describe, expect, it } from 'vitest';
import { runFaults } from '../fault/run-faults.js';
import { requireMosquittoBinary } from '../support/mosquitto.js';

/**
 * The short fault run of npm test (the long one: `npx tsx test/fault/run-faults.ts --events
 * 10000 --rounds 5 --broker both`): real `smew collector` and load-agent processes, the agent and
 * the collector SIGKILLed and restarted while events flow (and Mosquitto restarted in its
 * variant); the store must hold every seq exactly once.
 */
const withMosquitto = requireMosquittoBinary('fault-transport (mosquitto variant)');

const variants = [
  { broker: 'embedded' as const, run: true },
  { broker: 'mosquitto' as const, run: withMosquitto },
];

describe.each(variants)('fault run with the $broker broker', ({ broker, run }) => {
  it.skipIf(!run)(
    'every seq stored exactly once after agent and collector SIGKILLs and broker restarts',
    async () => {
      const report = await runFaults({ events: 400, rounds: 1, broker, rate: 200, log: () => undefined });
      console.log(`fault run: ${JSON.stringify(report)}`);
      expect(report.lastSeq).toBe(400);
      expect(report.lost).toBe(0);
      expect(report.duplicated).toBe(0);
      expect(report.stored).toBe(400);
      expect(report.faults.length).toBe(broker === 'mosquitto' ? 3 : 2);
    },
    300_000,
  );
});
