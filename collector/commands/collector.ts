import { untilSignal, type Command } from '../../shared/cli.js';
import { createLogger } from '../../shared/log.js';
import { CONFIG_OPTION, readConfig } from './open-config.js';

export const collectorCommand: Command = {
  name: 'collector',
  summary: 'run a collector: MQTT ingest, store and HTTP API',
  usage: 'collector [--config F]',
  options: { ...CONFIG_OPTION },
  async run(args) {
    const config = readConfig(args);
    const logger = createLogger('collector');
    // Loaded on use: the agent runs from the same bin and should not carry the collector's modules.
    const { startCollector } = await import('../server.js');
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
