import { untilSignal, type Command } from '../../shared/cli.js';
import { createLogger } from '../../shared/log.js';
import { startCollector } from '../server.js';
import { CONFIG_OPTION, readConfig } from './open-config.js';

export const collectorCommand: Command = {
  name: 'collector',
  summary: 'run a collector: MQTT ingest, store and HTTP API',
  usage: 'collector [--config F]',
  options: { ...CONFIG_OPTION },
  async run(args) {
    const config = readConfig(args);
    const logger = createLogger('collector');
    const collector = await startCollector(config, { logger });
    process.stderr.write(
      `smew collector ${collector.collectorId}\n` +
        `  HTTP API   ${collector.httpUrl}\n` +
        `  MQTT       ${collector.brokerUrl}${config.broker.url ? ' (external)' : ' (embedded)'}\n` +
        `  store      ${config.store.url}\n` +
        'Stop with Ctrl-C.\n',
    );
    const signal = await untilSignal();
    logger.info({ signal }, 'stopping');
    await collector.stop();
    return 0;
  },
};
