import { join } from 'node:path';
import type { WirelessLink } from './observations.js';
import type { Probe } from './probe.js';
import { readText } from './sysfs-files.js';

/**
 * /proc/net/wireless, the wireless-extensions statistics. cfg80211 prints a line for a station
 * only while it is associated (its stats hook returns nothing without a current BSS), so a line
 * is association evidence; legacy WEXT drivers print one regardless, which is why the detector
 * also weighs the interface's carrier and operstate.
 *
 * SSID and BSSID are in neither procfs nor sysfs: they need nl80211 over generic netlink (what
 * `iw dev X link` uses), which plain Node cannot open. The fields stay empty until such a reader
 * exists; we never run `iw` or `iwgetid` (probes run no programs).
 */
export const wirelessLinkProbe: Probe = {
  name: 'wireless-link',
  provides: ['wirelessLinks'],
  async collect(paths) {
    return { wirelessLinks: await readWirelessLinks(paths.procfs) };
  },
};

export async function readWirelessLinks(procfs: string): Promise<WirelessLink[]> {
  // No file: no wireless extensions at all, which is a valid "nothing associated".
  const text = await readText(join(procfs, 'net', 'wireless'));
  if (text === undefined) return [];
  const links: WirelessLink[] = [];
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const iface = line.slice(0, colon).trim();
    const [status = '', quality, level, noise] = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    links.push({ iface, status, quality: number(quality), level: number(level), noise: number(noise) });
  }
  return links;
}

/** "70." → 70: a trailing dot marks a value updated since the last read. */
function number(text: string | undefined): number {
  const value = Number.parseFloat(text ?? '');
  return Number.isFinite(value) ? value : 0;
}
