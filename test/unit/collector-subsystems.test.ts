import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import { StartedSubsystems, type Subsystem } from '../../collector/subsystem.js';

const logger = createLogger('test', 'silent');

function part(name: string, stopped: string[], fail?: 'start' | 'stop'): Subsystem<{ name: string }> {
  return {
    name,
    start() {
      if (fail === 'start') throw new Error(`${name} would not start`);
      return {
        name,
        stop: async () => {
          stopped.push(name);
          if (fail === 'stop') throw new Error(`${name} would not stop`);
        },
      };
    },
  };
}

describe('StartedSubsystems', () => {
  it('stops what started last first, and only once however often it is asked', async () => {
    const stopped: string[] = [];
    const subsystems = new StartedSubsystems(logger);
    await subsystems.start(part('store', stopped));
    await subsystems.start({ name: 'wiring', start: () => ({ nothing: 'to stop' }) });
    await subsystems.start(part('broker', stopped));
    await subsystems.start(part('api', stopped));
    await Promise.all([subsystems.stop(), subsystems.stop()]);
    await subsystems.stop();
    expect(stopped).toEqual(['api', 'broker', 'store']);
  });

  it('goes on stopping the others when one stop fails', async () => {
    const stopped: string[] = [];
    const subsystems = new StartedSubsystems(logger);
    await subsystems.start(part('store', stopped));
    await subsystems.start(part('broker', stopped, 'stop'));
    await subsystems.start(part('api', stopped));
    await expect(subsystems.stop()).resolves.toBeUndefined();
    expect(stopped).toEqual(['api', 'broker', 'store']);
  });

  it('keeps no stop of a subsystem whose start failed; what started before it is stopped by the caller', async () => {
    const stopped: string[] = [];
    const subsystems = new StartedSubsystems(logger);
    await subsystems.start(part('store', stopped));
    await expect(subsystems.start(part('broker', stopped, 'start'))).rejects.toThrow(
      'broker would not start',
    );
    await subsystems.stop();
    expect(stopped).toEqual(['store']);
  });

  it('stops timers started late in their place, even when their start fails half-way', async () => {
    const stopped: string[] = [];
    const subsystems = new StartedSubsystems(logger);
    await subsystems.start(part('store', stopped));
    const clocks = { stop: async () => void stopped.push('clocks') };
    await expect(
      subsystems.run('clocks', clocks, () => Promise.reject(new Error('pass failed'))),
    ).rejects.toThrow('pass failed');
    await subsystems.stop();
    expect(stopped).toEqual(['clocks', 'store']);
  });
});
