import { describe, expect, it } from 'vitest';
import { registersMedium } from '../../shared/policy.js';

/**
 * One meaning of a registered USB medium (第27条), used by the agent's detector and by the
 * hierarchy's policy merge: an entry names one medium; without a serial it names a device that
 * has none, never every serial of a model.
 */
describe('which USB medium a registration names', () => {
  const table: [
    string,
    { vendor: string; product: string; serial?: string },
    { vendor: string; product: string; serial?: string },
    boolean,
  ][] = [
    [
      'same ids and serial',
      { vendor: '0781', product: '5581', serial: 'ABC123' },
      { vendor: '0781', product: '5581', serial: 'ABC123' },
      true,
    ],
    [
      'ids and serial in another case, serial padded',
      { vendor: '0781', product: '558A', serial: 'abc123' },
      { vendor: '0781', product: '558a', serial: ' ABC123 ' },
      true,
    ],
    [
      'another serial of the model',
      { vendor: '0781', product: '5581', serial: 'ABC123' },
      { vendor: '0781', product: '5581', serial: 'XYZ' },
      false,
    ],
    [
      'entry without serial, device with one',
      { vendor: '0781', product: '5581' },
      { vendor: '0781', product: '5581', serial: 'ABC123' },
      false,
    ],
    [
      'entry without serial, device without one',
      { vendor: '0781', product: '5581' },
      { vendor: '0781', product: '5581' },
      true,
    ],
    [
      'blank serial reads as none',
      { vendor: '0781', product: '5581', serial: '  ' },
      { vendor: '0781', product: '5581' },
      true,
    ],
    [
      'entry with serial, device without one',
      { vendor: '0781', product: '5581', serial: 'ABC123' },
      { vendor: '0781', product: '5581' },
      false,
    ],
    ['another product', { vendor: '0781', product: '5581' }, { vendor: '0781', product: '5582' }, false],
    ['another vendor', { vendor: '0781', product: '5581' }, { vendor: '0782', product: '5581' }, false],
  ];
  it.each(table)('%s', (_what, registration, device, expected) => {
    expect(registersMedium(registration, device)).toBe(expected);
  });
});
