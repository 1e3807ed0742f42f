import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashSecret } from '../../collector/auth/secrets.js';
import { verifyPassword } from '../../collector/auth/passwords.js';
import { agentsMoveCommand } from '../../collector/commands/agent-admin.js';
import { apikeyCreateCommand } from '../../collector/commands/apikey.js';
import { tokenCreateCommand } from '../../collector/commands/token.js';
import { userAddCommand } from '../../collector/commands/user.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { parseCommandArgs, type Command } from '../../shared/cli.js';
import { UserError } from '../../shared/errors.js';
import { tempDir } from '../support/collector-harness.js';

describe('collector data commands', () => {
  let dir: ReturnType<typeof tempDir>;
  let config: string;
  let dbPath: string;
  let stdout: string[];
  let stderr: string[];

  beforeEach(() => {
    dir = tempDir('smew-cmd-');
    dbPath = join(dir.path, 'data', 'smew.db');
    config = join(dir.path, 'collector.yaml');
    writeFileSync(config, `store:\n  url: sqlite:${dbPath}\n`);
    stdout = [];
    stderr = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (stderr.push(String(chunk)), true));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    dir.remove();
  });

  /** What an agent's enrollment with `token` asks of the store. */
  const agentEnrollment = (token: string, agentId = 'ag-aaaaaaaaaaaaaaaaaaaa') => ({
    tokenHash: hashSecret(token),
    agentId,
    alg: 'ed25519' as const,
    publicKey: 'k',
    hostname: undefined,
    version: undefined,
    brokerSecretHash: 'h',
    now: new Date().toISOString(),
  });
  const run = (command: Command, argv: string[]) => command.run(parseCommandArgs(command, argv));
  const withStore = async <T>(work: (store: ReturnType<typeof openSqliteStore>) => Promise<T>) => {
    const store = openSqliteStore(dbPath);
    try {
      return await work(store);
    } finally {
      await store.close();
    }
  };

  it('token create prints only the token on stdout; it enrolls once in the named unit', async () => {
    expect(await run(tokenCreateCommand, ['--unit', '一处', '--ttl', '2h', '--config', config])).toBe(0);
    expect(stdout).toHaveLength(1);
    const token = stdout[0]!.trim();
    expect(token).toMatch(/^smew-et-[A-Za-z0-9_-]{43}$/);
    expect(stderr.join('')).toContain('一处');
    const result = await withStore((store) => store.enrollAgent(agentEnrollment(token)));
    expect(result).toMatchObject({ ok: true, agent: { unit: '一处' } });
  });

  it('token create explains a missing unit or a bad ttl', async () => {
    await expect(run(tokenCreateCommand, ['--config', config])).rejects.toThrow(/--unit is required/);
    await expect(run(tokenCreateCommand, ['--unit', 'u', '--ttl', 'tomorrow'])).rejects.toThrow(
      /--ttl: found "tomorrow"; expected a duration/,
    );
  });

  it('token create --for collector makes a token that enrolls a collector, not an agent', async () => {
    expect(
      await run(tokenCreateCommand, ['--unit', '甲单位', '--for', 'collector', '--config', config]),
    ).toBe(0);
    expect(stderr.join('')).toContain('a child collector of unit 甲单位');
    const token = stdout[0]!.trim();
    const result = await withStore((store) => store.enrollAgent(agentEnrollment(token)));
    expect(result).toEqual({ ok: false, reason: 'token-kind' });
    await expect(
      run(tokenCreateCommand, ['--unit', 'u', '--for', 'printer', '--config', config]),
    ).rejects.toThrow(/--for: found "printer"; expected agent \(the default\) or collector/);
  });

  it('agents move moves an agent to another unit and records it in the audit log', async () => {
    expect(await run(tokenCreateCommand, ['--unit', '一处', '--config', config])).toBe(0);
    const agentId = 'ag-aaaaaaaaaaaaaaaaaaaa';
    await withStore((store) => store.enrollAgent(agentEnrollment(stdout[0]!.trim())));
    expect(await run(agentsMoveCommand, [agentId, '--unit', '二处', '--config', config])).toBe(0);
    expect(stderr.join('')).toContain(`moved ${agentId} from unit 一处 to 二处`);
    const [agent, audit] = await withStore(async (store) => [
      await store.getAgent(agentId),
      await store.audit.list({ limit: 10 }),
    ]);
    expect(agent).toMatchObject({ unit: '二处' });
    expect(audit).toMatchObject([
      {
        actorKind: 'cli',
        action: `smew agents move ${agentId}`,
        detail: JSON.stringify({ from: '一处', to: '二处' }),
      },
    ]);
    await expect(
      run(agentsMoveCommand, ['ag-bbbbbbbbbbbbbbbbbbbb', '--unit', 'x', '--config', config]),
    ).rejects.toThrow(/no agent ag-bbbbbbbbbbbbbbbbbbbb is enrolled/);
    await expect(run(agentsMoveCommand, ['nobody', '--unit', 'x', '--config', config])).rejects.toThrow(
      /AGENT_ID: found "nobody"/,
    );
  });

  it('apikey create prints only the key and stores its hash with the role and unit', async () => {
    expect(
      await run(apikeyCreateCommand, [
        '--name',
        'ops',
        '--role',
        'secadmin',
        '--unit',
        '一处',
        '--config',
        config,
      ]),
    ).toBe(0);
    const key = stdout.join('').trim();
    expect(key).toMatch(/^smew-ak-/);
    const record = await withStore((store) => store.findApiKey(hashSecret(key)));
    expect(record).toMatchObject({ name: 'ops', role: 'secadmin', unit: '一处' });
    await expect(run(apikeyCreateCommand, ['--name', 'x', '--role', 'root'])).rejects.toThrow(
      /--role: found "root"; expected one of sysadmin \(系统管理员\), secadmin \(安全保密管理员\), auditor \(安全审计员\), viewer \(查阅人员\)/,
    );
  });

  it('refuses the role names from before 三员 with the new roles and the mapping', async () => {
    for (const [old, now] of [
      ['admin', 'sysadmin'],
      ['officer', 'secadmin'],
    ]) {
      await expect(
        run(apikeyCreateCommand, ['--name', 'x', '--role', old!, '--config', config]),
      ).rejects.toThrow(
        new RegExp(
          `smew apikey create: --role: role "${old}" is no longer used \\(第34条 三员\\): expected one of sysadmin .*; ` +
            `${old} became ${now} \\(admin → sysadmin, officer → secadmin, viewer stays viewer\\)`,
        ),
      );
    }
    await expect(run(userAddCommand, ['bob', '--role', 'admin', '--password-stdin'])).rejects.toThrow(
      /role "admin" is no longer used .* admin became sysadmin/,
    );
  });

  it('gives a name one role: a key or a user of another role by that name is refused', async () => {
    expect(await run(apikeyCreateCommand, ['--name', '张三', '--role', 'sysadmin', '--config', config])).toBe(
      0,
    );
    await expect(
      run(apikeyCreateCommand, ['--name', '张三', '--role', 'auditor', '--config', config]),
    ).rejects.toThrow(/"张三" already holds sysadmin \(系统管理员\); an account holds one role/);
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(
      Readable.from(['correct horse\n']) as typeof process.stdin,
    );
    await expect(
      run(userAddCommand, ['张三', '--role', 'secadmin', '--password-stdin', '--config', config]),
    ).rejects.toThrow(/cannot also be secadmin \(安全保密管理员\)/);
    // The same role again (a second key, a rotated one) is fine.
    expect(await run(apikeyCreateCommand, ['--name', '张三', '--role', 'sysadmin', '--config', config])).toBe(
      0,
    );
  });

  it('user add reads the password from stdin and stores an scrypt hash', async () => {
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(
      Readable.from(['correct horse\n']) as typeof process.stdin,
    );
    expect(
      await run(userAddCommand, [
        '张三',
        '--role',
        'secadmin',
        '--unit',
        '一处',
        '--password-stdin',
        '--config',
        config,
      ]),
    ).toBe(0);
    expect(stdout).toEqual([]);
    const user = await withStore((store) => store.getUser('张三'));
    expect(user).toMatchObject({ role: 'secadmin', unit: '一处' });
    expect(user!.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword('correct horse', user!.passwordHash)).toBe(true);
    expect(await verifyPassword('wrong horse', user!.passwordHash)).toBe(false);

    vi.spyOn(process, 'stdin', 'get').mockReturnValue(
      Readable.from(['another one\n']) as typeof process.stdin,
    );
    await expect(
      run(userAddCommand, ['张三', '--role', 'viewer', '--password-stdin', '--config', config]),
    ).rejects.toThrow(/already exists/);
  });

  it('user add refuses a password on argv, a short password and a bad role', async () => {
    await expect(run(userAddCommand, ['bob', '--role', 'viewer'])).rejects.toThrow(
      /--password-stdin is required/,
    );
    await expect(run(userAddCommand, ['bob', '--role', 'god', '--password-stdin'])).rejects.toThrow(
      UserError,
    );
    vi.spyOn(process, 'stdin', 'get').mockReturnValue(Readable.from(['short\n']) as typeof process.stdin);
    await expect(
      run(userAddCommand, ['bob', '--role', 'viewer', '--password-stdin', '--config', config]),
    ).rejects.toThrow(/at least 8/);
  });

  it('names the config file and key when the config is wrong', async () => {
    writeFileSync(config, 'store:\n  url: mysql://db\n');
    await expect(run(tokenCreateCommand, ['--unit', 'u', '--config', config])).rejects.toThrow(/store\.url/);
  });
});
