import { optionalString, requireOption, type Command } from '../../shared/cli.js';
import { UserError } from '../../shared/errors.js';
import { enrollAtParent } from '../hierarchy/enroll-at-parent.js';
import { loadOrCreateCollectorIdentity } from '../identity.js';
import { CONFIG_OPTION, readConfig, withStore } from './open-config.js';

export const collectorEnrollCommand: Command = {
  name: 'collector enroll',
  summary: "register this collector's key with its parent collector (reports go up, notices come down)",
  usage: 'collector enroll --parent URL --token T [--config F]',
  options: { parent: { type: 'string' }, token: { type: 'string' }, ...CONFIG_OPTION },
  async run(args) {
    const token = requireOption(this, args, 'token');
    const config = readConfig(args);
    const parentUrl = optionalString(args, 'parent') ?? config.parent.url;
    if (parentUrl === undefined) {
      throw new UserError(
        `smew collector enroll: --parent is required (or parent.url in the config)\nusage: smew ${this.usage}`,
      );
    }
    let parsed: URL;
    try {
      parsed = new URL(parentUrl);
    } catch {
      throw new UserError(
        `smew collector enroll: --parent: found ${JSON.stringify(parentUrl)}; expected a URL such as https://county.example:8080`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UserError(
        `smew collector enroll: --parent: found ${parsed.protocol} URL; expected http:// or https://`,
      );
    }
    const identity = loadOrCreateCollectorIdentity(config.identity.dir);
    const parent = await withStore(config, (store) =>
      enrollAtParent({
        parentUrl,
        token,
        identity,
        unit: config.unit,
        level: config.level,
        store: store.hierarchy,
      }),
    );
    process.stderr.write(
      `collector ${identity.id} (${config.unit}, ${config.level}) enrolled at ${parent.unit} (${parent.level}, ${parent.id}); ` +
        'a running collector starts reporting on its next round\n',
    );
    process.stdout.write(`${identity.id}\n`);
    return 0;
  },
};
