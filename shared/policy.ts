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

export type UsbMedium = z.infer<typeof usbMediumSchema>;

/**
 * Whether a registration in policy.usb.approved names this device (第27条: classified media are
 * numbered and registered one by one). A registration names ONE medium: vendor, product and
 * serial must all match (ids and serials case-insensitive, serials trimmed). An entry without a
 * serial names a device that reports none — never every serial of that model, which would
 * register every stick of the kind bought in any shop. The agent's detector and the hierarchy's
 * policy merge both decide with this function.
 */
export function registersMedium(
  registration: Pick<UsbMedium, 'vendor' | 'product' | 'serial'>,
  device: { vendor: string; product: string; serial?: string | undefined },
): boolean {
  return (
    registration.vendor.toLowerCase() === device.vendor.toLowerCase() &&
    registration.product.toLowerCase() === device.product.toLowerCase() &&
    normalSerial(registration.serial) === normalSerial(device.serial)
  );
}

function normalSerial(serial: string | undefined): string | undefined {
  const trimmed = serial?.trim().toLowerCase();
  return trimmed ? trimmed : undefined;
}

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
