import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy.js';
import { startLineMonitor, type LineMonitor } from './line-monitor.js';
import { createScanTrigger } from './scan-trigger.js';
import { startSelfWatch, type SelfChange, type SelfFile } from './self-watch.js';
import { startSocketWatch, type SocketWatch } from './socket-watch.js';

/**
 * What makes the agent scan between its periodic passes: the kernel's own change notices.
 * - netlink: `ip -o monitor link address route` prints one line per rtnetlink message (links
 *   appearing, going up or down, addresses and routes changing) in the agent's network namespace.
 * - uevent: `udevadm monitor --kernel` prints the kernel's uevents (USB, block, net, bluetooth,
 *   rfkill, wwan, tty) without needing udevd; sysfs itself cannot be watched (no inotify there).
 * - files: chokidar on the policy's watched directories, for file.marked.
 * - sockets: no kernel notice exists for new connections, so the socket tables are read every
 *   `socketsMs` (cheap, no owner walk) and a change in prohibited peers counts as a notice.
 * Each notice only triggers a full scan (debounced); the scan reads the host afresh, so a notice
 * carries no data that could be wrong or hostile. The periodic scan stays as the net under all of
 * them, and a source that cannot start here is reported as falling back to polling.
 */
export interface WatchOptions {
  netlink: boolean;
  uevent: boolean;
  /** quiet window that gathers a burst of notices into one scan (ms) */
  quietMs: number;
  /** how often the socket tables are read for prohibited peers (ms); 0 turns that off */
  socketsMs: number;
  /** where the socket tables are read (`paths.procfs`) */
  procfs: string;
}

export type SourceState = 'event' | 'polling' | 'off';

export interface Watchers {
  /** How each change source reaches the agent on this machine right now. */
  sources(): Record<string, SourceState>;
  /** The policy changed: watch its directories instead of the old ones. */
  policyChanged(): void;
  /** The agent itself wrote one of its own watched files: not a change to report. */
  ownWrite(path: string): void;
  stop(): Promise<void>;
}

const UEVENT_SUBSYSTEMS = [
  'usb',
  'block',
  'net',
  'bluetooth',
  'rfkill',
  'wwan',
  'tty',
  'usbmisc',
  'ieee80211',
];

export function startWatchers(options: {
  watch: WatchOptions;
  policy: () => Policy;
  scan: () => Promise<unknown>;
  logger: Logger;
  /** the agent's own files: a change is reported through onSelfChange, as is a clock jump */
  selfFiles?: readonly SelfFile[];
  onSelfChange?: (change: SelfChange) => void;
}): Watchers {
  const { logger } = options;
  const trigger = createScanTrigger(options.scan, options.watch.quietMs);
  const state: Record<string, SourceState> = {
    netlink: 'off',
    uevent: 'off',
    files: 'off',
    sockets: 'off',
  };
  const monitors = new Map<string, LineMonitor>();
  const unavailable = (source: string) => (reason: string) => {
    logger.warn({ source, reason }, 'change source unavailable; falling back to the periodic scan');
  };

  if (options.watch.netlink) {
    monitors.set(
      'netlink',
      startLineMonitor({
        name: 'netlink',
        command: 'ip',
        args: ['-o', 'monitor', 'link', 'address', 'route'],
        onChange: trigger.fire,
        onUnavailable: unavailable('netlink'),
        logger,
      }),
    );
  }
  if (options.watch.uevent) {
    monitors.set(
      'uevent',
      startLineMonitor({
        name: 'uevent',
        command: 'udevadm',
        args: ['monitor', '--kernel', ...UEVENT_SUBSYSTEMS.map((s) => `--subsystem-match=${s}`)],
        // "KERNEL[12.345] add /devices/… (usb)"; the banner lines are not events.
        accept: (line) => line.startsWith('KERNEL['),
        onChange: trigger.fire,
        onUnavailable: unavailable('uevent'),
        logger,
      }),
    );
  }

  let sockets: SocketWatch | undefined;
  if (options.watch.socketsMs > 0) {
    sockets = startSocketWatch({
      procfs: options.watch.procfs,
      intervalMs: options.watch.socketsMs,
      policy: options.policy,
      onChange: trigger.fire,
      logger,
    });
  }

  let files: FSWatcher | undefined;
  let watchedKey = '';
  /** Synchronous, so the sources logged at start already say whether files are watched. */
  function watchFiles(): void {
    const dirs = [...options.policy().files.watch].sort();
    const key = JSON.stringify(dirs);
    if (key === watchedKey) return;
    watchedKey = key;
    void files?.close();
    files = undefined;
    state.files = 'off';
    if (dirs.length === 0) return;
    const watcher = chokidarWatch(dirs, {
      ignoreInitial: true,
      followSymlinks: false,
      depth: 16,
      persistent: true,
    });
    watcher.on('all', () => trigger.fire());
    watcher.on('error', (err) => {
      state.files = 'polling';
      logger.warn({ err }, 'file watch failed; marked files are found by the periodic scan');
    });
    files = watcher;
    state.files = 'event';
  }
  watchFiles();

  const self = options.onSelfChange
    ? startSelfWatch({ files: options.selfFiles ?? [], onChange: options.onSelfChange, logger })
    : undefined;

  const sources = (): Record<string, SourceState> => {
    const now = { ...state };
    for (const [name, monitor] of monitors) now[name] = monitor.active() ? 'event' : 'polling';
    if (sockets) now.sockets = sockets.active() ? 'event' : 'polling';
    return now;
  };
  logger.info({ sources: sources() }, 'change sources');
  return {
    sources,
    policyChanged: watchFiles,
    ownWrite: (path) => self?.acknowledge(path),
    async stop() {
      trigger.cancel();
      self?.stop();
      sockets?.stop();
      for (const monitor of monitors.values()) monitor.stop();
      await files?.close();
    },
  };
}
