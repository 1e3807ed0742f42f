import type { AckPublisher } from '../ingest/ack-publisher.js';
import type { IngestPipeline } from '../ingest/pipeline.js';
import type { CollectorContext, Subsystem } from '../subsystem.js';
import type { ConditionSink } from '../warnings/conditions.js';
import type { LivenessConfig } from './liveness-config.js';
import { LivenessMonitor } from './monitor.js';
import { observeIngest } from './observe-ingest.js';

/**
 * Agent liveness (issue 4): the monitor follows what ingest accepts from now on; its checks
 * start once the HTTP API listens (StartedSubsystems.run).
 */
export function livenessSubsystem(
  context: CollectorContext,
  options: { config: LivenessConfig; sink: ConditionSink; pipeline: IngestPipeline; acks: AckPublisher },
): Subsystem<{ liveness: LivenessMonitor }> {
  const { store, clock, logger } = context;
  const { config, acks } = options;
  return {
    name: 'liveness',
    start() {
      const liveness = new LivenessMonitor({
        store,
        sink: options.sink,
        clock,
        logger,
        missedHeartbeats: config.missedHeartbeats,
        lostGraceMs: config.lostGrace,
        defaultIntervalMs: config.defaultInterval,
        checkIntervalMs: config.checkInterval,
      });
      observeIngest({
        pipeline: options.pipeline,
        store,
        monitor: liveness,
        clock,
        logger,
        scheduleAck: (id) => acks.schedule(id),
      });
      return { liveness };
    },
  };
}
