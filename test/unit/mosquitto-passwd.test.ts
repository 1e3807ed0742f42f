import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAclFile, renderPasswordFile } from '../../collector/broker/mosquitto-access.js';
import { mosquittoPasswordHash, verifyMosquittoPassword } from '../../collector/broker/mosquitto-passwd.js';

/** Mosquitto's `$7$` password hashes, checked against the installed mosquitto_passwd. */
function hasMosquittoPasswd(): boolean {
  try {
    execFileSync('mosquitto_passwd', ['-h'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // It prints usage and exits non-zero; ENOENT means it is missing.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
const passwdInstalled = hasMosquittoPasswd();
if (!passwdInstalled && process.env.CI === 'true')
  throw new Error('mosquitto_passwd is missing; CI must install mosquitto');

describe('mosquitto $7$ hashes', () => {
  it('have the shape mosquitto_passwd writes: $7$101$<12-byte salt>$<64-byte key>', () => {
    const hash = mosquittoPasswordHash('smew-bs-secret');
    const [, seven, iterations, salt, key] = hash.split('$');
    expect([seven, iterations]).toEqual(['7', '101']);
    expect(Buffer.from(salt!, 'base64')).toHaveLength(12);
    expect(Buffer.from(key!, 'base64')).toHaveLength(64);
    expect(verifyMosquittoPassword('smew-bs-secret', hash)).toBe(true);
    expect(verifyMosquittoPassword('smew-bs-secreT', hash)).toBe(false);
    expect(mosquittoPasswordHash('x')).not.toBe(mosquittoPasswordHash('x'));
  });

  it.skipIf(!passwdInstalled)(
    'verify a hash made by the installed mosquitto_passwd, and reproduce it from its salt',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'smew-passwd-'));
      try {
        const file = join(dir, 'pw');
        execFileSync('mosquitto_passwd', ['-b', '-c', file, 'alice', 'smew-bs-Zx9']);
        const hash = readFileSync(file, 'utf8').trim().split(':')[1]!;
        expect(verifyMosquittoPassword('smew-bs-Zx9', hash)).toBe(true);
        expect(verifyMosquittoPassword('smew-bs-Zx8', hash)).toBe(false);
        const salt = Buffer.from(hash.split('$')[3]!, 'base64');
        expect(mosquittoPasswordHash('smew-bs-Zx9', { salt })).toBe(hash);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('password and ACL files', () => {
  const accounts = [
    { agentId: 'ag-aaaaaaaaaaaaaaaaaaaa', passwordHash: '$7$101$c2FsdA==$a2V5', revoked: false },
    { agentId: 'ag-bbbbbbbbbbbbbbbbbbbb', passwordHash: '$7$101$c2FsdA==$a2V6', revoked: true },
    { agentId: 'ag-cccccccccccccccccccc', passwordHash: null, revoked: false },
  ];

  it('list the collector and each usable agent; revoked agents and agents without a hash are left out', () => {
    expect(renderPasswordFile(accounts, { username: 'smew-collector', passwordHash: '$7$101$x$y' })).toBe(
      'smew-collector:$7$101$x$y\nag-aaaaaaaaaaaaaaaaaaaa:$7$101$c2FsdA==$a2V5\n',
    );
    const acl = renderAclFile(accounts, 'smew-collector');
    expect(acl).toContain(
      [
        'user ag-aaaaaaaaaaaaaaaaaaaa',
        'topic write smew/v1/agents/ag-aaaaaaaaaaaaaaaaaaaa/events',
        'topic write smew/v1/agents/ag-aaaaaaaaaaaaaaaaaaaa/heartbeat',
        'topic write smew/v1/agents/ag-aaaaaaaaaaaaaaaaaaaa/status',
        'topic read smew/v1/agents/ag-aaaaaaaaaaaaaaaaaaaa/ack',
        'topic read smew/v1/agents/ag-aaaaaaaaaaaaaaaaaaaa/policy',
      ].join('\n'),
    );
    expect(acl).toContain('user smew-collector\ntopic read smew/v1/agents/+/events');
    expect(acl).not.toContain('ag-bbbbbbbbbbbbbbbbbbbb');
    expect(acl).not.toContain('ag-cccccccccccccccccccc');
    // No agent line grants a wildcard.
    const agentLines = acl.split('\n').filter((l) => l.includes('ag-'));
    expect(agentLines.every((l) => !l.includes('+') && !l.includes('#'))).toBe(true);
  });
});
