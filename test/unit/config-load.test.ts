import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../agent/config.js';
import { loadCollectorConfig } from '../../collector/config.js';
import { UserError } from '../../shared/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'smew-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('config loading', () => {
  it('runs on safe defaults without a file', () => {
    const collector = loadCollectorConfig(undefined, {});
    expect(collector.http.listen).toBe('127.0.0.1:8080');
    expect(collector.broker.listen).toBe('127.0.0.1:1883');
    expect(collector.store.url).toBe('sqlite:./data/smew.db');
    expect(collector.ingest.maxSkew).toBe(300_000);
    const agent = loadAgentConfig(undefined, {});
    expect(agent.heartbeat.interval).toBe(30_000);
    expect(agent.paths.sysfs).toBe('/sys');
    expect(agent.policy.beacon.targets).toEqual([]);
    expect(agent.policy.level).toBe('秘密');
  });

  it('reads YAML with durations and the legal level words', () => {
    const path = file(
      'agent.yaml',
      'scan:\n  interval: 250ms\npolicy:\n  level: 绝密\n  wireless:\n    approved: [wlan9]\n',
    );
    const config = loadAgentConfig(path, {});
    expect(config.scan.interval).toBe(250);
    expect(config.policy.level).toBe('绝密');
    expect(config.policy.wireless.approved).toEqual(['wlan9']);
  });

  it('names the file, the key, what was found and what is expected', () => {
    const path = file('bad-listen.yaml', 'http:\n  listen: 8080\n');
    const err = errorOf(() => loadCollectorConfig(path, {}));
    expect(err.message).toContain(path);
    expect(err.message).toContain('http.listen');
    expect(err.message).toContain('8080');
    expect(err.message).toMatch(/expected/);
    const level = errorOf(() =>
      loadAgentConfig(file('bad-level.yaml', 'policy:\n  level: top-secret\n'), {}),
    );
    expect(level.message).toContain('policy.level');
    expect(level.message).toContain('绝密');
    const duration = errorOf(() =>
      loadAgentConfig(file('bad-duration.yaml', 'scan:\n  interval: soon\n'), {}),
    );
    expect(duration.message).toContain('scan.interval');
    expect(duration.message).toContain('30s');
  });

  it('refuses unknown keys, bad YAML and missing files clearly', () => {
    expect(
      errorOf(() => loadCollectorConfig(file('typo.yaml', 'htp:\n  listen: x\n'), {})).message,
    ).toContain('htp');
    expect(errorOf(() => loadCollectorConfig(file('broken.yaml', 'http: [\n'), {})).message).toMatch(
      /not valid YAML/,
    );
    expect(errorOf(() => loadCollectorConfig(join(dir, 'absent.yaml'), {})).message).toMatch(
      /does not exist/,
    );
    expect(errorOf(() => loadCollectorConfig(file('list.yaml', '- a\n'), {})).message).toMatch(/mapping/);
  });

  it('lets SMEW_ environment variables override single keys, and names them in errors', () => {
    const env = {
      SMEW_HTTP_LISTEN: '127.0.0.1:9999',
      SMEW_INGEST_MAX_SKEW: '1m',
      SMEW_STORE_URL: 'sqlite:/tmp/x.db',
    };
    const config = loadCollectorConfig(undefined, env);
    expect(config.http.listen).toBe('127.0.0.1:9999');
    expect(config.ingest.maxSkew).toBe(60_000);
    expect(config.store.url).toBe('sqlite:/tmp/x.db');
    const err = errorOf(() => loadCollectorConfig(undefined, { SMEW_LEVEL: 'planet' }));
    expect(err.message).toContain('SMEW_LEVEL');
  });
});
