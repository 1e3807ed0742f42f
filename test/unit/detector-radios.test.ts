import { describe, expect, it } from 'vitest';
import { bluetoothPresentDetector } from '../../agent/detectors/bluetooth-present.js';
import { modemPresentDetector } from '../../agent/detectors/modem-present.js';
import { wirelessConnectedDetector } from '../../agent/detectors/wireless-connected.js';
import type {
  NetInterface,
  Observations,
  RfkillSwitch,
  UsbDevice,
  UsbInterface,
} from '../../agent/probes/observations.js';
import { policySchema, type Policy } from '../../shared/policy.js';

const policy = (input: Record<string, unknown> = {}): Policy => policySchema.parse(input);
const at = '2026-11-26T00:00:00.000Z';

function nic(name: string, over: Partial<NetInterface> = {}): NetInterface {
  return {
    name,
    operstate: 'up',
    adminUp: true,
    carrier: true,
    arpType: 1,
    virtual: false,
    wirelessEvidence: [],
    ...over,
  };
}
function usbIface(
  name: string,
  cls: string,
  sub: string,
  proto: string,
  over: Partial<UsbInterface> = {},
): UsbInterface {
  return {
    name,
    class: cls,
    subclass: sub,
    protocol: proto,
    blocks: [],
    nets: [],
    ttys: [],
    usbmisc: [],
    wwan: [],
    bluetooth: [],
    ...over,
  };
}
function usbDevice(port: string, vendor: string, product: string, interfaces: UsbInterface[]): UsbDevice {
  return { port, vendor, product, interfaces };
}
const rfkill = (id: string, type: string, label: string, over: Partial<RfkillSwitch> = {}): RfkillSwitch => ({
  id,
  type,
  label,
  soft: false,
  hard: false,
  ...over,
});

describe('net.wireless.connected', () => {
  const wlan = (over: Partial<NetInterface> = {}) =>
    nic('wlp2s0', { wirelessEvidence: ['phy80211'], ...over });
  const cases: Array<{ what: string; obs: Partial<Observations>; policy?: Policy; keys: string[] }> = [
    {
      what: 'carrier and operstate up',
      obs: { interfaces: [wlan()] },
      keys: ['net.wireless.connected:wlp2s0'],
    },
    {
      what: 'dormant (associated, still authenticating)',
      obs: { interfaces: [wlan({ operstate: 'dormant' })] },
      keys: ['net.wireless.connected:wlp2s0'],
    },
    {
      what: 'a /proc/net/wireless line with carrier unreadable',
      obs: {
        interfaces: [wlan({ carrier: undefined, operstate: 'unknown' })],
        wirelessLinks: [{ iface: 'wlp2s0', status: '0000', quality: 58, level: -52, noise: -256 }],
      },
      keys: ['net.wireless.connected:wlp2s0'],
    },
    {
      what: 'down',
      obs: { interfaces: [wlan({ adminUp: false, operstate: 'down', carrier: undefined })] },
      keys: [],
    },
    {
      what: 'up without carrier (scanning)',
      obs: { interfaces: [wlan({ carrier: false, operstate: 'down' })] },
      keys: [],
    },
    {
      what: 'a legacy driver listed in /proc/net/wireless while down',
      obs: {
        interfaces: [wlan({ adminUp: false, operstate: 'down', carrier: undefined })],
        wirelessLinks: [{ iface: 'wlp2s0', status: '0000', quality: 0, level: 0, noise: 0 }],
      },
      keys: [],
    },
    { what: 'a wired NIC', obs: { interfaces: [nic('eth0')] }, keys: [] },
    {
      what: 'an approved NIC (by MAC)',
      obs: { interfaces: [wlan({ mac: 'aa:bb:cc:dd:ee:ff' })] },
      policy: policy({ wireless: { approved: ['AA:BB:CC:DD:EE:FF'] } }),
      keys: [],
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const findings = wirelessConnectedDetector.detect({ at, ...c.obs }, c.policy ?? policy());
      expect(findings.map((f) => f.key)).toEqual(c.keys);
    });
  }

  it('is critical on 秘密 and stays critical on 绝密; carries SSID/BSSID when a probe knows them', () => {
    const obs: Observations = {
      at,
      interfaces: [wlan()],
      wirelessLinks: [
        {
          iface: 'wlp2s0',
          status: '0000',
          quality: 58,
          level: -52,
          noise: -256,
          ssid: '<b>"net"</b>',
          bssid: '00:11:22:33:44:55',
        },
      ],
    };
    expect(wirelessConnectedDetector.detect(obs, policy())[0]).toEqual({
      type: 'net.wireless.connected',
      key: 'net.wireless.connected:wlp2s0',
      severity: 'critical',
      data: { iface: 'wlp2s0', ssid: '<b>"net"</b>', bssid: '00:11:22:33:44:55' },
    });
    expect(wirelessConnectedDetector.detect(obs, policy({ level: '非密' }))[0]!.severity).toBe('high');
  });
});

describe('net.bluetooth.present', () => {
  const btUsb = (port: string, hci: string[]) =>
    usbDevice(port, '8087', '0026', [
      usbIface(`${port}:1.0`, 'e0', '01', '01', { driver: 'btusb', bluetooth: hci }),
    ]);
  const base: Observations = { at, bluetooth: [], rfkill: [], usb: [] };
  const cases: Array<{
    what: string;
    obs: Partial<Observations>;
    policy?: Policy;
    findings: Array<[string, object]>;
  }> = [
    {
      what: 'an hci adapter, its rfkill and a platform switch: one radio',
      obs: {
        bluetooth: [{ name: 'hci0', usbPort: '1-10', bus: 'usb' }],
        usb: [btUsb('1-10', ['hci0'])],
        rfkill: [
          rfkill('rfkill1', 'bluetooth', 'hci0', { parent: 'hci0' }),
          rfkill('rfkill2', 'bluetooth', 'tpacpi_bluetooth_sw'),
        ],
      },
      findings: [['net.bluetooth.present:hci0', { adapter: 'hci0' }]],
    },
    {
      what: 'the address when the kernel exposes it',
      obs: { bluetooth: [{ name: 'hci0', address: '00:1a:7d:da:71:13' }] },
      findings: [['net.bluetooth.present:hci0', { adapter: 'hci0', address: '00:1a:7d:da:71:13' }]],
    },
    {
      what: 'a USB Bluetooth interface whose driver is not loaded',
      obs: { usb: [btUsb('1-7', [])] },
      findings: [['net.bluetooth.present:usb-1-7', { adapter: '8087:0026@usb-1-7' }]],
    },
    {
      what: 'only a soft-blocked platform switch',
      obs: { rfkill: [rfkill('rfkill0', 'bluetooth', 'tpacpi_bluetooth_sw', { soft: true })] },
      findings: [['net.bluetooth.present:rfkill:tpacpi_bluetooth_sw', { adapter: 'tpacpi_bluetooth_sw' }]],
    },
    {
      what: 'a wlan switch is not Bluetooth',
      obs: { rfkill: [rfkill('rfkill0', 'wlan', 'phy0')] },
      findings: [],
    },
    {
      what: 'an approved adapter (by address) silences its switches too',
      obs: {
        bluetooth: [{ name: 'hci0', address: '00:1a:7d:da:71:13' }],
        rfkill: [rfkill('rfkill2', 'bluetooth', 'tpacpi_bluetooth_sw')],
      },
      policy: policy({ bluetooth: { approved: ['00:1A:7D:DA:71:13'] } }),
      findings: [],
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const findings = bluetoothPresentDetector.detect({ ...base, ...c.obs }, c.policy ?? policy());
      expect(findings.map((f) => [f.key, f.data])).toEqual(c.findings);
      for (const f of findings) expect(f.severity).toBe('high');
    });
  }

  it('weighs more on a 绝密 host', () => {
    const [finding] = bluetoothPresentDetector.detect(
      { ...base, bluetooth: [{ name: 'hci0' }] },
      policy({ level: '绝密' }),
    );
    expect(finding!.severity).toBe('critical');
  });
});

describe('net.modem.present', () => {
  const base: Observations = { at, interfaces: [], wwan: [], usb: [], rfkill: [] };
  const quectel = usbDevice('2-3', '2c7c', '0125', [
    usbIface('2-3:1.2', 'ff', '00', '00', { driver: 'option', ttys: ['ttyUSB2'] }),
    usbIface('2-3:1.4', 'ff', 'ff', 'ff', {
      driver: 'qmi_wwan',
      nets: ['wwan0'],
      usbmisc: ['cdc-wdm0'],
      wwan: ['wwan0'],
    }),
  ]);
  const cases: Array<{
    what: string;
    obs: Partial<Observations>;
    policy?: Policy;
    findings: Array<[string, object]>;
  }> = [
    {
      what: 'one modem with a netdev, control node, WWAN device and AT ports is one finding',
      obs: {
        interfaces: [nic('wwan0', { devtype: 'wwan', driver: 'qmi_wwan', bus: 'usb' })],
        wwan: [
          { name: 'wwan0', source: 'class-wwan', usbPort: '2-3' },
          { name: 'wwan0at0', source: 'class-wwan', usbPort: '2-3' },
          { name: 'cdc-wdm0', source: 'usbmisc', usbPort: '2-3' },
        ],
        usb: [quectel],
      },
      findings: [['net.modem.present:usb-2-3', { kind: 'wwan', iface: 'wwan0', device: 'cdc-wdm0' }]],
    },
    {
      what: 'a cdc-wdm node seen only in /dev',
      obs: { wwan: [{ name: 'cdc-wdm0', source: 'devfs' }] },
      findings: [['net.modem.present:cdc-wdm0', { kind: 'wwan', device: 'cdc-wdm0' }]],
    },
    {
      what: 'a PCIe (MHI) modem: WWAN ports group under their wwanN device',
      obs: {
        wwan: [
          { name: 'wwan0', source: 'class-wwan' },
          { name: 'wwan0mbim0', source: 'class-wwan' },
        ],
      },
      findings: [['net.modem.present:wwan0', { kind: 'wwan', device: 'wwan0' }]],
    },
    {
      what: 'a phone tethered over USB (rndis_host)',
      obs: {
        interfaces: [nic('usb0', { driver: 'rndis_host', bus: 'usb' })],
        usb: [
          usbDevice('1-2', '18d1', '4ee3', [
            usbIface('1-2:1.0', 'e0', '01', '03', { driver: 'rndis_host', nets: ['usb0'] }),
          ]),
        ],
      },
      findings: [['net.modem.present:usb-1-2', { kind: 'usb-tether', iface: 'usb0' }]],
    },
    ...['cdc_ether', 'cdc_ncm', 'ipheth'].map((driver) => ({
      what: `a ${driver} netdev off any USB record`,
      obs: { interfaces: [nic('enx1', { driver })] },
      findings: [['net.modem.present:enx1', { kind: 'usb-tether', iface: 'enx1' }]] as Array<
        [string, object]
      >,
    })),
    {
      what: 'a cdc_ether adapter approved as a wired link',
      obs: { interfaces: [nic('enx1', { driver: 'cdc_ether', mac: '00:e0:4c:68:00:01' })] },
      policy: policy({ interfaces: { approved: ['00:E0:4C:68:00:01'] } }),
      findings: [],
    },
    {
      what: 'a wwan netdev is not approved by the wired list, only by the wireless one',
      obs: { interfaces: [nic('wwan0', { devtype: 'wwan' })] },
      policy: policy({ interfaces: { approved: ['wwan0'] } }),
      findings: [['net.modem.present:wwan0', { kind: 'wwan', iface: 'wwan0' }]],
    },
    {
      what: 'approved as wireless',
      obs: { interfaces: [nic('wwan0', { devtype: 'wwan' })] },
      policy: policy({ wireless: { approved: ['wwan0'] } }),
      findings: [],
    },
    {
      what: 'a CDC-ACM modem (class 02) is serial',
      obs: {
        usb: [
          usbDevice('1-5', '1546', '01a8', [
            usbIface('1-5:1.0', '02', '02', '01', { driver: 'cdc_acm', ttys: ['ttyACM0'] }),
          ]),
        ],
      },
      findings: [['net.modem.present:usb-1-5', { kind: 'serial', device: 'ttyACM0' }]],
    },
    {
      what: 'a plain USB-serial adapter is not a modem',
      obs: {
        usb: [
          usbDevice('1-6', '0403', '6001', [
            usbIface('1-6:1.0', 'ff', 'ff', 'ff', { driver: 'ftdi_sio', ttys: ['ttyUSB0'] }),
          ]),
        ],
      },
      findings: [],
    },
    {
      what: 'a Huawei dongle in ZeroCD mode (known vendor, CD-ROM mass storage)',
      obs: {
        usb: [
          usbDevice('2-4', '12d1', '1f01', [
            usbIface('2-4:1.0', '08', '06', '50', {
              driver: 'usb-storage',
              blocks: [{ name: 'sr0', removable: true }],
            }),
          ]),
        ],
      },
      findings: [['net.modem.present:usb-2-4', { kind: 'wwan', device: '12d1:1f01@usb-2-4' }]],
    },
    {
      what: 'an unknown vendor: a CD-ROM next to vendor-specific interfaces',
      obs: {
        usb: [
          usbDevice('2-5', 'abcd', '0001', [
            usbIface('2-5:1.0', 'ff', 'ff', 'ff'),
            usbIface('2-5:1.1', '08', '02', '50', { driver: 'usb-storage' }),
          ]),
        ],
      },
      findings: [['net.modem.present:usb-2-5', { kind: 'wwan', device: 'abcd:0001@usb-2-5' }]],
    },
    {
      what: 'an ordinary USB stick is not a modem',
      obs: {
        usb: [
          usbDevice('2-1', '0781', '5567', [
            usbIface('2-1:1.0', '08', '06', '50', { blocks: [{ name: 'sdb' }] }),
          ]),
        ],
      },
      findings: [],
    },
    {
      what: 'a wwan rfkill switch with no modem found',
      obs: { rfkill: [rfkill('rfkill3', 'wwan', 'tpacpi_wwan_sw', { soft: true })] },
      findings: [['net.modem.present:rfkill:tpacpi_wwan_sw', { kind: 'wwan', device: 'tpacpi_wwan_sw' }]],
    },
    {
      what: 'a wwan rfkill switch next to a found modem is that modem’s',
      obs: {
        interfaces: [nic('wwan0', { devtype: 'wwan' })],
        rfkill: [rfkill('rfkill3', 'wwan', 'tpacpi_wwan_sw')],
      },
      findings: [['net.modem.present:wwan0', { kind: 'wwan', iface: 'wwan0' }]],
    },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const findings = modemPresentDetector.detect({ ...base, ...c.obs }, c.policy ?? policy());
      expect(findings.map((f) => [f.key, f.data])).toEqual(c.findings);
    });
  }
});
