import { optionalString, type Command } from '../../shared/cli.js';
import { systemClock } from '../../shared/clock.js';
import { UserError } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { clockOptionsFromConfig } from '../clocks/clock-config.js';
import { shanghaiYear } from '../hierarchy/annual-figures.js';
import { annualRefusal, ReportProducers } from '../hierarchy/producers.js';
import { loadOrCreateCollectorIdentity } from '../identity.js';
import { CONFIG_OPTION, readConfig, withStore } from './open-config.js';

/**
 * `smew collector annual`: queues this unit's 第56条 annual figures for the parent now, as the
 * collector does by itself after the year ends; a running collector sends them on its next round.
 */
export const collectorAnnualCommand: Command = {
  name: 'collector annual',
  summary:
    "queue this unit's annex (附表) figures of its 第56条 年度保密工作情况 for a finished year to its parent collector; prints them",
  usage: 'collector annual [--year YYYY] [--config F]   (default: last year, Asia/Shanghai)',
  options: { year: { type: 'string' }, ...CONFIG_OPTION },
  async run(args) {
    const text = optionalString(args, 'year');
    const year = text === undefined ? shanghaiYear(systemClock.now()) - 1 : Number(text);
    if (!/^\d{4}$/.test(text ?? String(year))) {
      throw new UserError(
        `smew collector annual: --year: found ${JSON.stringify(text)}; expected a year such as 2025`,
      );
    }
    const config = readConfig(args);
    const identity = loadOrCreateCollectorIdentity(config.identity.dir);
    const answer = await withStore(config, (store) =>
      new ReportProducers({
        store,
        origin: { identity, unit: config.unit, level: config.level },
        clock: systemClock,
        logger: createLogger('collector annual', 'warn'),
        minSeverity: config.parent.minSeverity,
        clockOptions: clockOptionsFromConfig(config.clocks),
      }).produceAnnual(year),
    );
    if (!answer.ok) throw new UserError(`smew collector annual: ${annualRefusal(answer.reason, year)}`);
    process.stderr.write(
      answer.created
        ? `the ${year} figures of ${config.unit} are queued for the parent; a running collector sends them on its next round\n`
        : `the ${year} figures of ${config.unit} were already queued (once per unit and year); shown as queued\n`,
    );
    process.stdout.write(`${JSON.stringify(answer.data, null, 2)}\n`);
    return 0;
  },
};
