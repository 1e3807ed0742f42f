import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_DATA_SCHEMAS } from '../../shared/events.js';
import { eventually } from '../support/eventually.js';
import { followChanges, NetnsLab, offlineAgentConfig, requireNetns } from '../support/netns.js';

/**
 * Interface names and aliases are chosen by whoever administers the host (or a driver, or a
 * container runtime): the kernel allows any 15 bytes but "/", ":" and whitespace in a name, and
 * anything in an alias. Real interfaces with hostile names flow through `agent scan --json`,
 * the table, `agent run`'s change notices (ip monitor prints the alias, newlines and all) and the
 * event, as data: never run, never breaking the JSON, never driving the terminal.
 */
const canRun = requireNetns();

const SCRIPT_NAME = `<script>'"$(id)`; // 15 bytes, the most the kernel allows
const BIDI_NAME = 'x\u202e;|&`\\'; // a right-to-left override and shell metacharacters
const PWNED = `/tmp/smew-pwned-${process.pid}`;
const ALIAS = `alias\n$(touch ${PWNED})\n\`touch ${PWNED}\`\n<script>alert("x")</script>\u001b[2J`;

let lab: NetnsLab;
afterEach(async () => {
  await lab?.cleanup();
});

describe.runIf(canRun)('hostile interface names and aliases', () => {
  it('are carried as data through scan --json, the table and the running agent’s events', async () => {
    lab = new NetnsLab();
    const agentNs = lab.namespace('agent');
    const { file } = offlineAgentConfig({ watch: { uevent: false } });
    const agent = agentNs.startSmew(['agent', 'run', '--config', file], { SMEW_LOG_LEVEL: 'info' });
    const changes = followChanges(agent);
    await eventually(() => agent.stderr().includes('"msg":"change sources"'), { what: 'agent start' });

    agentNs.ip(['link', 'add', SCRIPT_NAME, 'type', 'veth', 'peer', 'name', BIDI_NAME]);
    agentNs.ip(['link', 'set', 'dev', SCRIPT_NAME, 'alias', ALIAS]);
    agentNs.ip(['link', 'set', SCRIPT_NAME, 'up']);
    agentNs.ip(['link', 'set', BIDI_NAME, 'up']);

    // The running agent: one event per interface, keys and data exactly the names.
    for (const name of [SCRIPT_NAME, BIDI_NAME]) {
      const change = await eventually(
        () => changes.find((c) => c.key === `net.link.unapproved:${name}` && c.state === 'raised'),
        { what: `event for ${JSON.stringify(name)}`, timeoutMs: 5000 },
      );
      expect(change.type).toBe('net.link.unapproved');
    }

    const json = await agentNs.smew(['agent', 'scan', '--json', '--config', file]);
    expect(json.stderr).toBe('');
    const { findings } = JSON.parse(json.stdout) as {
      findings: Array<{ type: string; key: string; data: Record<string, unknown> }>;
    };
    const links = findings.filter((f) => f.type === 'net.link.unapproved');
    expect(links.map((f) => f.data.iface).sort()).toEqual([SCRIPT_NAME, BIDI_NAME].sort());
    for (const finding of links) {
      expect(finding.key).toBe(`net.link.unapproved:${String(finding.data.iface)}`);
      expect(EVENT_DATA_SCHEMAS['net.link.unapproved'].safeParse(finding.data).success).toBe(true);
    }
    // One JSON line, whatever the names hold.
    expect(json.stdout.trimEnd().split('\n')).toHaveLength(1);

    const table = await agentNs.smew(['agent', 'scan', '--config', file]);
    // The bidi override and escape reach the terminal only as visible escapes.
    expect(table.stdout).not.toContain('\u202e');
    expect(table.stdout).not.toContain('\u001b');
    expect(table.stdout).toContain('\\u202e');
    expect(table.stdout).toContain(SCRIPT_NAME);

    expect(existsSync(PWNED)).toBe(false);
    await agent.stop();
    expect(agent.stderr()).not.toContain('internal error');
  });
});
