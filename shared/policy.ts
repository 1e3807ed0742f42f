import { z } from 'zod';
import { levelSchema } from './levels.js';

/**
 * The host policy of SPEC §4. Pushed signed by the collector or read locally; everything
 * defaults to the strict reading: nothing approved, no beacon target.
 */
const list = z.array(z.string().min(1)).default([]);

export const usbMediumSchema = z.strictObject({
  vendor: z.string().regex(/^[0-9a-fA-F]{4}$/, 'a 4-digit hex USB vendor id'),
  product: z.string().regex(/^[0-9a-fA-F]{4}$/, 'a 4-digit hex USB product id'),
  serial: z.string().optional(),
  note: z.string().optional(),
});

export const beaconTargetSchema = z.strictObject({
  method: z.enum(['tcp', 'http', 'dns']),
  /** host:port for tcp, a URL for http, a name for dns */
  target: z.string().min(1),
});

export const policySchema = z.strictObject({
  level: levelSchema.default('秘密'),
  interfaces: z.strictObject({ approved: list }).default({ approved: [] }),
  wireless: z.strictObject({ approved: list }).default({ approved: [] }),
  bluetooth: z.strictObject({ approved: list }).default({ approved: [] }),
  network: z.strictObject({ allowedCidrs: list }).default({ allowedCidrs: [] }),
  usb: z.strictObject({ approved: z.array(usbMediumSchema).default([]) }).default({ approved: [] }),
  files: z.strictObject({ watch: list }).default({ watch: [] }),
  beacon: z.strictObject({ targets: z.array(beaconTargetSchema).default([]) }).default({ targets: [] }),
});
export type Policy = z.infer<typeof policySchema>;

export const defaultPolicy: Policy = policySchema.parse({});

/** Approved lists hold interface names or MAC addresses; MACs compare case-insensitively. */
export function isApproved(approved: readonly string[], name: string, mac?: string): boolean {
  const macLower = mac?.toLowerCase();
  return approved.some(
    (entry) => entry === name || (macLower !== undefined && entry.toLowerCase() === macLower),
  );
}
