import { expect, it } from 'vitest';
import { runNetworkCut } from '../fault/run-network-cut.js';
import { requireNetns } from '../support/netns.js';

/**
 * The short network-cut run of npm test (the long one, a minute's cut during 10 000 events:
 * `npm run fault:netcut`): collector and load agent in namespaces of their own, the agent's
 * link taken down and its sockets destroyed mid-stream, then restored; every seq stored once.
 */
it.runIf(requireNetns())(
  'the agent’s network cut mid-stream: nothing lost, nothing doubled, the backlog drains',
  async () => {
    const report = await runNetworkCut({ events: 1500, cutSeconds: 6, rate: 200, log: () => undefined });
    console.log(`network cut run: ${JSON.stringify(report)}`);
    expect(report.backlogAtRestore).toBeGreaterThan(500);
    expect(report.lastSeq).toBe(1500);
    expect(report.lost).toBe(0);
    expect(report.duplicated).toBe(0);
    expect(report.stored).toBe(1500);
  },
  240_000,
);
