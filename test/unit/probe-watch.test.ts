import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startLineMonitor, type LineMonitor } from '../../agent/watch/line-monitor.js';
import { createScanTrigger } from '../../agent/watch/scan-trigger.js';
import { eventually } from '../support/eventually.js';

/** The change-notice plumbing with real child processes: fallback, restart, debouncing. */
const logger = pino({ level: 'silent' });
let monitor: LineMonitor | undefined;
afterEach(() => monitor?.stop());

describe('line monitor', () => {
  it('a command that is not installed is reported once as unavailable (polling covers it)', async () => {
    const reasons: string[] = [];
    monitor = startLineMonitor({
      name: 'missing',
      command: 'smew-no-such-monitor-command',
      args: [],
      onChange: () => undefined,
      onUnavailable: (reason) => reasons.push(reason),
      logger,
    });
    await eventually(() => reasons.length > 0, { what: 'unavailable' });
    expect(reasons).toEqual(['smew-no-such-monitor-command: ENOENT']);
    expect(monitor.active()).toBe(false);
  });

  it('each accepted line is a change; a child that dies is restarted, with a rescan for what it missed', async () => {
    let changes = 0;
    let launches = 0;
    monitor = startLineMonitor({
      name: 'flaky',
      command: process.execPath,
      args: ['-e', 'console.log("banner"); console.log("KERNEL[1] add /devices/x (usb)"); process.exit(3)'],
      accept: (line) => {
        if (line === 'banner') launches += 1;
        return line.startsWith('KERNEL[');
      },
      onChange: () => (changes += 1),
      onUnavailable: () => {
        throw new Error('it is installed');
      },
      logger,
      restartMs: { min: 10, max: 20 },
    });
    await eventually(() => launches >= 3, { what: 'restarts' });
    // Per launch: the accepted line, the exit and (after a restart) the start.
    expect(changes).toBeGreaterThanOrEqual(2 * launches);
  });
});

describe('scan trigger', () => {
  it('a burst of notices becomes one scan; notices during a scan bring exactly one more', async () => {
    // Fake timers: the quiet period runs when the test says, so "no further scan" is a count of the
    // timers left (none), not a wait.
    vi.useFakeTimers();
    try {
      let scans = 0;
      let release: (() => void) | undefined;
      const trigger = createScanTrigger(() => {
        scans += 1;
        return new Promise<void>((resolve) => (release = resolve));
      }, 5);
      for (let i = 0; i < 50; i++) trigger.fire();
      await vi.runAllTimersAsync();
      expect(scans).toBe(1);
      for (let i = 0; i < 50; i++) trigger.fire();
      release!();
      await vi.runAllTimersAsync();
      expect(scans).toBe(2);
      release!();
      await vi.runAllTimersAsync();
      expect(scans).toBe(2);
      expect(vi.getTimerCount()).toBe(0);
      trigger.cancel();
      trigger.fire();
      expect(vi.getTimerCount()).toBe(0);
      await vi.runAllTimersAsync();
      expect(scans).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
