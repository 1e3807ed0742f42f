import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadRules, defaultRulesFile } from '../../collector/rules/load.js';
import { openSqliteStore, type SqliteStore } from '../../collector/store/sqlite-store.js';
import { WarningStage } from '../../collector/warnings/stage.js';
import { createLogger } from '../../shared/log.js';
import { tempDir } from '../support/collector-harness.js';

/**
 * A flood of 10 000 identical events (one host repeating one violation) makes one warning with
 * count 10 000, its 10 000 pieces of evidence and one notification, not 10 000 of each. The
 * events are stored as ingest stores them; the real rules stage evaluates them from the store.
 */
const FLOOD = 10_000;
const AGENT = 'ag-floodfloodfloodflood';
let dir: ReturnType<typeof tempDir> | undefined;
let store: SqliteStore | undefined;
afterEach(async () => {
  await store?.close();
  dir?.remove();
});

it(`${FLOOD} identical events make one warning`, async () => {
  dir = tempDir('smew-flood-');
  store = openSqliteStore(join(dir.path, 'smew.db'));
  const now = new Date().toISOString();
  await store.createEnrollmentToken({
    tokenHash: 't',
    unit: '测试单位',
    createdAt: now,
    expiresAt: '2999-01-01T00:00:00Z',
  });
  const enrolled = await store.enrollAgent({
    tokenHash: 't',
    agentId: AGENT,
    alg: 'ed25519',
    publicKey: 'PUBKEY',
    hostname: 'flood',
    version: '1',
    brokerSecretHash: 's',
    now,
  });
  expect(enrolled.ok).toBe(true);
  const t0 = Date.parse('2026-11-26T00:00:00Z');
  for (let seq = 1; seq <= FLOOD; seq++) {
    const ts = new Date(t0 + seq).toISOString();
    const body = {
      v: 1,
      agent: AGENT,
      seq,
      ts,
      type: 'net.wireless.present',
      state: 'raised',
      key: 'net.wireless.present:wlp2s0',
      severity: 'high',
      data: { iface: 'wlp2s0', mac: '00:11:22:33:44:55', driver: 'iwlwifi' },
    };
    await store.insertEvent({
      agentId: AGENT,
      seq,
      ts,
      receivedAt: ts,
      type: body.type,
      state: 'raised',
      key: body.key,
      severity: body.severity,
      data: body.data,
      envelope: JSON.stringify({ ...body, alg: 'ed25519', sig: 'x' }),
      skewed: false,
    });
  }

  const stage = new WarningStage({
    store,
    rules: loadRules(defaultRulesFile()),
    clock: { now: () => new Date() },
    logger: createLogger('test', 'warn'),
    notify: () => ['hook'],
  });
  const started = performance.now();
  await stage.start();
  const ms = performance.now() - started;
  await stage.stop();
  console.log(
    `flood: ${FLOOD} events evaluated in ${ms.toFixed(0)} ms (${((FLOOD / ms) * 1000).toFixed(0)} events/s)`,
  );

  const warnings = await store.warnings.listWarnings({ limit: 100 });
  expect(warnings.map((w) => [w.rule, w.count])).toEqual([['wireless-present', FLOOD]]);
  expect(await store.warnings.listEvidence(warnings[0]!.id, FLOOD + 1)).toHaveLength(FLOOD);
  expect(await store.warnings.listNotifications({ limit: 100 })).toHaveLength(1);
  expect(await store.warnings.eventsAfterRulesCursor(1)).toEqual([]);
}, 120_000);
