import type { MqttClient } from 'mqtt';
import type { ClockScheduler } from '../clocks/scheduler.js';
import type { CollectorConfig } from '../config.js';
import type { CollectorIdentity } from '../identity.js';
import type { CollectorMetrics } from '../metrics.js';
import type { CollectorContext, Subsystem } from '../subsystem.js';
import type { ConditionSink } from '../warnings/conditions.js';
import type { WarningStage } from '../warnings/stage.js';
import { Hierarchy } from './hierarchy.js';

/**
 * Collectors in a hierarchy (issue 7): the parent link, the report producers, the policy this
 * collector pushes to its agents. Its link and scans start once the HTTP API listens
 * (StartedSubsystems.run).
 */
export function hierarchySubsystem(
  context: CollectorContext,
  options: {
    config: Pick<CollectorConfig, 'unit' | 'level' | 'parent' | 'policy' | 'identity' | 'ingest'>;
    identity: CollectorIdentity;
    metrics: CollectorMetrics;
    scheduler: ClockScheduler;
    sink: ConditionSink;
    warnings: WarningStage;
    client: MqttClient;
  },
): Subsystem<{ hierarchy: Hierarchy }> {
  const { config, scheduler, client } = options;
  return {
    name: 'hierarchy',
    start() {
      const hierarchy = new Hierarchy({
        ...context,
        identity: options.identity,
        unit: config.unit,
        level: config.level,
        config: config.parent,
        scheduler,
        clockOptions: scheduler.options,
        sink: options.sink,
        metrics: options.metrics.hierarchy,
        enrollMaxSkewMs: config.ingest.maxSkew,
        policy: {
          own: config.policy,
          stateDir: config.identity.dir,
          publish: async (topic, payload) => {
            await client.publishAsync(topic, payload, { qos: 1, retain: true });
          },
        },
      });
      // A warning opened goes up now, not on the next round (its later states come through the API).
      options.warnings.subscribe((result) => {
        if (result.opened.length > 0) hierarchy.reportSoon();
      });
      return { hierarchy };
    },
  };
}
