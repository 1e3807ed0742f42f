import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBeaconConfig } from '../../agent/beacon/config.js';
import { loadAgentConfig } from '../../agent/config.js';
import { loadCollectorConfig } from '../../collector/config.js';
import { loadRules } from '../../collector/rules/load.js';
import { REPO_ROOT } from '../support/processes.js';

const example = (name: string) => join(REPO_ROOT, 'config', name);

// The README tells operators to copy these files: each must load as shipped.
describe('the shipped example configurations', () => {
  it('collector.example.yaml loads', () => {
    expect(loadCollectorConfig(example('collector.example.yaml'), {}).unit).toBeTruthy();
  });
  it('agent.example.yaml loads', () => {
    expect(loadAgentConfig(example('agent.example.yaml'), {}).collector.url).toMatch(/^https?:/);
  });
  it('beacon.example.yaml loads', () => {
    expect(loadBeaconConfig(example('beacon.example.yaml'), {})).toBeDefined();
  });
  it('rules.yaml loads every rule', () => {
    expect(loadRules(example('rules.yaml')).length).toBeGreaterThan(10);
  });
});
