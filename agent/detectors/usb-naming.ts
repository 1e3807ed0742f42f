import type { UsbDevice } from '../probes/observations.js';

/**
 * How a USB device without a kernel name (no hci, netdev or tty yet) is named in events: its ids
 * first, which is what registration lists and `lsusb` use, then the port it sits in.
 */
export function usbLabel(device: Pick<UsbDevice, 'vendor' | 'product' | 'port'>): string {
  return `${device.vendor}:${device.product}@usb-${device.port}`;
}

/** USB interface class codes (bInterfaceClass), lowercase hex as the usb probe reports them. */
export const USB_CLASS = {
  communications: '02',
  massStorage: '08',
  wirelessController: 'e0',
  vendorSpecific: 'ff',
} as const;
