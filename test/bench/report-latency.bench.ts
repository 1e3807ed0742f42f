/**
 * Report latency up the hierarchy: five `smew collector` processes chained on loopback (unit →
 * county → city → province → national) with the default link configuration; incidents entered
 * at the unit through its API, one at a time, timed to their receipt at the county and at the
 * national level (each collector's own received time). Run: npm run build &&
 *   npx tsx test/bench/report-latency.bench.ts [--short] [--rounds N]
 * Not a test.
 */
import { startSiteChain, incidentUp } from '../support/site-chain.js';
import { argValue, isShort, median, printTable, reportFigures } from './support/report.js';

const ROUNDS = argValue('--rounds', isShort() ? 2 : 10);

const chain = await startSiteChain({ ingest: { verifyWorkers: 0 } });
try {
  const county: number[] = [];
  const national: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const up = await incidentUp(chain, `上报时延 ${i}`);
    county.push(up.toCountyMs);
    national.push(up.toNationalMs);
  }
  const row = (name: string, values: number[]) => ({
    path: name,
    rounds: values.length,
    'median ms': median(values),
    'max ms': Math.max(...values),
  });
  console.log('incident entered at the unit → received above it, default parent.* configuration');
  printTable([row('unit → county', county), row('unit → national (5 collectors)', national)]);
  reportFigures({
    reportLatency: {
      rounds: ROUNDS,
      unitToCountyMedianMs: median(county),
      unitToCountyMaxMs: Math.max(...county),
      unitToNationalMedianMs: median(national),
      unitToNationalMaxMs: Math.max(...national),
    },
  });
} finally {
  await chain.stop();
}
process.exit(0);
