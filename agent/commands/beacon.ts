import { writeFileSync } from 'node:fs';
import { optionalString, untilSignal, type Command } from '../../shared/cli.js';
import { systemClock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { AgentKeys } from '../beacon/agent-keys.js';
import { loadBeaconConfig } from '../beacon/config.js';
import { startReceiver } from '../beacon/receiver.js';
import { exportSightings, loadOrCreateBeaconKey, SightingLog } from '../beacon/sightings.js';

export const beaconCommand: Command = {
  name: 'beacon',
  summary:
    'the internet-side receiver of agents’ beacons (违规外联 evidence); --export writes a signed file of sightings for one-way import',
  usage: 'beacon [--config F] [--export FILE [--since ISO-TIME]]',
  options: { config: { type: 'string' }, export: { type: 'string' }, since: { type: 'string' } },
  async run(args) {
    const config = loadBeaconConfig(optionalString(args, 'config'));
    const key = loadOrCreateBeaconKey(config.data.dir);
    const log = new SightingLog(config.data.dir);
    const out = optionalString(args, 'export');
    if (out !== undefined) {
      const since = optionalString(args, 'since');
      if (since !== undefined && Number.isNaN(Date.parse(since))) {
        throw new UserError(
          `smew beacon: --since "${since}" is not a time; expected ISO 8601 such as 2026-11-01T00:00:00Z`,
        );
      }
      const file = exportSightings(key, log.all(), systemClock.now(), since && new Date(since).toISOString());
      writeFileSync(out, `${JSON.stringify(file)}\n`, { mode: 0o600 });
      process.stderr.write(`wrote ${file.sightings.length} sighting(s) signed by ${key.id} to ${out}\n`);
      return 0;
    }
    if (
      config.listen.tcp === undefined &&
      config.listen.http === undefined &&
      config.listen.dns === undefined
    ) {
      throw new UserError(
        'beacon config: key listen: found none of listen.tcp, listen.http, listen.dns; expected at least one host:port',
      );
    }
    const logger = createLogger('beacon');
    const keys = new AgentKeys(config.agents);
    const signalled = untilSignal();
    let receiver;
    try {
      receiver = await startReceiver({
        listen: config.listen,
        keys,
        log,
        clock: systemClock,
        maxSkewMs: config.maxSkew,
        logger,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
        throw new UserError(
          `beacon: cannot listen (${code}) on ${JSON.stringify(config.listen)}; change listen.tcp / listen.http`,
        );
      }
      throw err;
    }
    logger.info(
      {
        beacon: key.id,
        tcp: receiver.tcpPort,
        http: receiver.httpPort,
        agents: keys.size,
        sightings: log.all().length,
      },
      'beacon listening',
    );
    await signalled;
    await receiver.close();
    logger.info({ counts: receiver.counts }, 'beacon stopped');
    return 0;
  },
};
