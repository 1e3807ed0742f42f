import { readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { basename, sep } from 'node:path';

/**
 * Tolerant reads of sysfs, procfs and devfs for the hardware probes: a file that is missing
 * (an older kernel, a container, a fixture tree) reads as undefined or empty, never as an error.
 */

/** A file's text without its final newline, or undefined. */
export async function readText(path: string): Promise<string | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    return text.endsWith('\n') ? text.slice(0, -1) : text;
  } catch {
    return undefined;
  }
}

/** Entry names of a directory, sorted; empty when it cannot be read. */
export async function listNames(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch {
    return [];
  }
}

export async function realpathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}

export async function readlinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch {
    return undefined;
  }
}

/** The last path component a symlink points at (a driver link gives the driver's name). */
export async function linkBasename(path: string): Promise<string | undefined> {
  const target = await readlinkOrUndefined(path);
  return target === undefined ? undefined : basename(target);
}

/** USB device directories are named by port path (1-2, 3-1.4); interfaces add `:config.iface`. */
const USB_DEVICE_NAME = /^\d+-\d+(\.\d+)*$/;

/** The innermost USB device (port path) a resolved sysfs device path lies under, if any. */
export function usbPortOf(resolved: string): string | undefined {
  const parts = resolved.split(sep);
  for (let i = parts.length - 1; i >= 0; i--) {
    if (USB_DEVICE_NAME.test(parts[i]!)) return parts[i];
  }
  return undefined;
}

export function isUsbDeviceName(name: string): boolean {
  return USB_DEVICE_NAME.test(name);
}
