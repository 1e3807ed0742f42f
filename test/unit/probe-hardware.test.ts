import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readBluetoothAdapters } from '../../agent/probes/bluetooth.js';
import { readRfkill } from '../../agent/probes/rfkill.js';
import { readUsbDevices, readUsbDiskLinks } from '../../agent/probes/usb.js';
import { readWirelessLinks } from '../../agent/probes/wireless-link.js';
import { readWwanDevices } from '../../agent/probes/wwan.js';

const HOSTS = fileURLToPath(new URL('../fixtures/hosts', import.meta.url));
const host = (name: string) => ({
  sysfs: join(HOSTS, name, 'sys'),
  procfs: join(HOSTS, name, 'proc'),
  devfs: join(HOSTS, name, 'dev'),
});

describe('rfkill probe', () => {
  it('finds each switch with its parent device, blocked or not', async () => {
    expect(await readRfkill(host('laptop-wifi-bt').sysfs)).toEqual([
      { id: 'rfkill0', type: 'wlan', label: 'phy0', soft: false, hard: false, parent: 'phy0' },
      {
        id: 'rfkill1',
        type: 'bluetooth',
        label: 'hci0',
        soft: false,
        hard: false,
        parent: 'hci0',
        usbPort: '1-10',
      },
      {
        id: 'rfkill2',
        type: 'bluetooth',
        label: 'tpacpi_bluetooth_sw',
        soft: false,
        hard: false,
        parent: 'thinkpad_acpi',
      },
    ]);
    expect(await readRfkill(host('desktop-usb-wifi-down').sysfs)).toEqual([
      { id: 'rfkill0', type: 'wlan', label: 'phy0', soft: true, hard: false, parent: 'phy0', usbPort: '1-4' },
    ]);
  });

  it('reads nothing, without failing, where the class is missing', async () => {
    expect(await readRfkill(host('clean').sysfs)).toEqual([]);
    expect(await readRfkill('/nonexistent')).toEqual([]);
  });
});

describe('bluetooth probe', () => {
  it('finds hci0 on USB; the address is not in modern sysfs', async () => {
    expect(await readBluetoothAdapters(host('laptop-wifi-bt').sysfs)).toEqual([
      { name: 'hci0', usbPort: '1-10', bus: 'usb' },
    ]);
    expect(await readBluetoothAdapters(host('clean').sysfs)).toEqual([]);
  });
});

describe('wireless-link probe', () => {
  it('parses /proc/net/wireless lines, and an empty table', async () => {
    expect(await readWirelessLinks(host('laptop-wifi-bt').procfs)).toEqual([
      { iface: 'wlp0s20f3', status: '0000', quality: 58, level: -52, noise: -256 },
    ]);
    expect(await readWirelessLinks(host('desktop-usb-wifi-down').procfs)).toEqual([]);
    expect(await readWirelessLinks('/nonexistent')).toEqual([]);
  });
});

describe('wwan probe', () => {
  it('finds the WWAN class devices and cdc-wdm with their USB port, /dev duplicates folded', async () => {
    const { sysfs, devfs } = host('modem-4g');
    expect(await readWwanDevices(sysfs, devfs)).toEqual([
      { name: 'wwan0', source: 'class-wwan', usbPort: '2-3' },
      { name: 'wwan0at0', source: 'class-wwan', usbPort: '2-3' },
      { name: 'cdc-wdm0', source: 'usbmisc', usbPort: '2-3' },
    ]);
  });

  it('falls back to /dev nodes when sysfs shows none', async () => {
    expect(await readWwanDevices('/nonexistent', host('modem-4g').devfs)).toEqual([
      { name: 'cdc-wdm0', source: 'devfs' },
      { name: 'wwan0at0', source: 'devfs' },
    ]);
  });
});

describe('usb probe', () => {
  it('reads ids, strings and every interface with what hangs below it', async () => {
    const devices = await readUsbDevices(host('modem-4g').sysfs);
    expect(devices.map((d) => d.port)).toEqual(['2-3', '2-4']);
    const quectel = devices[0]!;
    expect(quectel).toMatchObject({
      vendor: '2c7c',
      product: '0125',
      manufacturer: 'Quectel',
      productName: 'EG25-GC',
    });
    expect(quectel.serial).toBeUndefined();
    expect(
      quectel.interfaces.map((i) => [i.name, i.class, i.driver, i.ttys, i.nets, i.usbmisc, i.wwan]),
    ).toEqual([
      ['2-3:1.0', 'ff', 'option', ['ttyUSB0'], [], [], []],
      ['2-3:1.1', 'ff', 'option', ['ttyUSB1'], [], [], []],
      ['2-3:1.2', 'ff', 'option', ['ttyUSB2'], [], [], []],
      ['2-3:1.3', 'ff', 'option', ['ttyUSB3'], [], [], []],
      ['2-3:1.4', 'ff', 'qmi_wwan', [], ['wwan0'], ['cdc-wdm0'], ['wwan0']],
    ]);
    expect(devices[1]!.interfaces[0]).toMatchObject({
      class: '08',
      subclass: '06',
      protocol: '50',
      blocks: [{ name: 'sr0', removable: true, sectors: 194560 }],
    });
  });

  it('finds disks (not their partitions) with removable and size, and hostile strings as data', async () => {
    const devices = await readUsbDevices(host('usb-disks').sysfs);
    expect(
      devices.map((d) => [
        d.port,
        d.vendor,
        d.product,
        d.serial,
        d.interfaces[0]!.driver,
        d.interfaces[0]!.blocks,
      ]),
    ).toEqual([
      [
        '2-1',
        '0781',
        '5567',
        '4C530001230615117383',
        'usb-storage',
        [{ name: 'sdb', removable: true, sectors: 31266816 }],
      ],
      [
        '2-2',
        '04e8',
        '4001',
        "S5TANJ0R'; rm -rf /",
        'uas',
        [{ name: 'sdc', removable: false, sectors: 1953525168 }],
      ],
    ]);
    expect(devices[1]!.productName).toBe('PSSD T7 <b>"$(reboot)"</b>');
  });

  it('finds hci adapters and netdevs below their interfaces', async () => {
    const [bt] = await readUsbDevices(host('laptop-wifi-bt').sysfs);
    expect(bt!.interfaces.map((i) => [i.name, i.bluetooth])).toEqual([
      ['1-10:1.0', ['hci0']],
      ['1-10:1.1', []],
    ]);
    const [phone] = await readUsbDevices(host('tethered-phone').sysfs);
    expect(phone!.interfaces[0]).toMatchObject({
      class: 'e0',
      subclass: '01',
      protocol: '03',
      nets: ['usb0'],
    });
  });

  it('reads the by-id links, and nothing where there is no USB', async () => {
    expect(await readUsbDiskLinks(host('usb-disks').devfs)).toEqual([
      { link: 'usb-Samsung_PSSD_T7_S5TANJ0R_x27__rm_-rf__-0:0', target: 'sdc' },
      { link: 'usb-Samsung_PSSD_T7_S5TANJ0R_x27__rm_-rf__-0:0-part1', target: 'sdc1' },
      { link: 'usb-SanDisk_Cruzer_Blade_4C530001230615117383-0:0', target: 'sdb' },
      { link: 'usb-SanDisk_Cruzer_Blade_4C530001230615117383-0:0-part1', target: 'sdb1' },
    ]);
    expect(await readUsbDevices(host('clean').sysfs)).toEqual([]);
    expect(await readUsbDiskLinks(host('clean').devfs)).toEqual([]);
  });
});
