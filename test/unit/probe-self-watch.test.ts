import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { clockJump } from '../../agent/watch/clock-jump.js';
import { fileHash, selfChangeDraft, startSelfWatch, type SelfChange } from '../../agent/watch/self-watch.js';
import { EVENT_DATA_SCHEMAS } from '../../shared/events.js';
import { eventually } from '../support/eventually.js';

describe('clockJump', () => {
  const at = (wallMs: number, bootMs: number) => ({ wallMs, bootMs });
  it.each([
    ['time passing normally', at(1000, 50), at(2000, 1050), undefined],
    ['a small NTP step', at(1000, 50), at(3500, 2050), undefined],
    ['the wall clock set forward an hour', at(1000, 50), at(3_601_000, 1050), 3_599_000],
    ['the wall clock set back a day', at(100_000_000, 50), at(13_600_000, 1050), -86_401_000],
    // Suspend: the boot clock counts the sleep as well, so the wall clock moving with it is no jump.
    ['a laptop waking after 8 hours of sleep', at(1000, 50), at(28_801_000, 28_800_050), undefined],
  ])('%s', (_name, before, after, expected) => {
    expect(clockJump(before, after, 2000)).toBe(expected);
  });
});

describe('self watch', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('reports a replaced config file, a changed or removed identity, and a clock jump, each once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smew-self-'));
    const config = join(dir, 'agent.yaml');
    const identity = join(dir, 'identity.json');
    writeFileSync(config, 'scan: {interval: 60s}\n');
    writeFileSync(identity, '{"agentId":"a"}');
    const changes: SelfChange[] = [];
    let wall = 1_000_000;
    let boot = 5_000;
    const watch = startSelfWatch({
      files: [
        { what: 'config', path: config, tamper: false },
        { what: 'identity', path: identity, tamper: true },
      ],
      onChange: (change) => changes.push(change),
      logger: pino({ level: 'silent' }),
      checkMs: 60_000,
      readClock: () => ({ wallMs: wall, bootMs: boot }),
    });
    stop = watch.stop;

    // An editor's save: a new file renamed over the old one.
    writeFileSync(`${config}.tmp`, 'scan: {interval: 1s}\n');
    renameSync(`${config}.tmp`, config);
    await eventually(() => changes.length === 1, { what: 'config change seen by the watch' });
    expect(changes[0]).toEqual({ type: 'agent.config.changed', what: 'config', hash: fileHash(config) });

    rmSync(identity);
    await eventually(() => changes.length === 2, { what: 'identity removal seen by the watch' });
    expect(changes[1]).toEqual({ type: 'agent.tamper', what: 'identity', hash: 'missing' });

    watch.check();
    expect(changes).toHaveLength(2);
    wall += 7_200_000;
    boot += 1000;
    watch.check();
    expect(changes[2]).toEqual({ type: 'agent.tamper', what: 'clock', hash: 'n/a', jumpMs: 7_199_000 });
  });

  it('its events fit the catalogue', () => {
    for (const change of [
      { type: 'agent.tamper', what: 'clock', hash: 'n/a', jumpMs: -5000 },
      { type: 'agent.config.changed', what: 'config', hash: 'ab' },
    ] as SelfChange[]) {
      const draft = selfChangeDraft(change);
      expect(EVENT_DATA_SCHEMAS[change.type].safeParse(draft.data).success).toBe(true);
    }
    expect(selfChangeDraft({ type: 'agent.tamper', what: 'identity', hash: 'x' })).toMatchObject({
      key: 'agent.tamper:identity',
      severity: 'high',
      state: 'raised',
    });
  });
});
