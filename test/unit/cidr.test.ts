import { describe, expect, it } from 'vitest';
import { cidrContains, formatIp, isLoopback, parseCidr, parseIp } from '../../shared/net/cidr.js';

const contains = (cidr: string, ip: string) => cidrContains(parseCidr(cidr)!, parseIp(ip)!);

describe('CIDR matching', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.168.1.7/24', '192.168.1.200', true],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['0.0.0.0/0', '2001:db8::1', false],
    ['fd00::/8', 'fd12:3456::1', true],
    ['fd00::/8', 'fe80::1', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['::/0', '::1', true],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['::ffff:10.0.0.0/104', '10.9.9.9', true],
    ['198.51.100.7', '198.51.100.7', true],
    ['198.51.100.7', '198.51.100.8', false],
    ['fe80::/10', 'fe80::1%eth0', true],
  ])('%s contains %s: %s', (cidr, ip, expected) => expect(contains(cidr, ip)).toBe(expected));

  it.each(['10.0.0.0/33', '::/129', 'internet', '10.0.0/8', '10.0.0.0/x', '', '10.0.0.0/-1'])(
    'rejects %j',
    (text) => expect(parseCidr(text)).toBeUndefined(),
  );

  it('folds IPv4-mapped IPv6 to IPv4 and formats RFC 5952', () => {
    expect(formatIp(parseIp('::ffff:198.51.100.7')!)).toBe('198.51.100.7');
    expect(formatIp(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(formatIp(parseIp('2001:db8:0:1:0:0:0:1')!)).toBe('2001:db8:0:1::1');
    expect(formatIp(parseIp('::')!)).toBe('::');
  });

  it('knows loopback in both families', () => {
    expect(isLoopback(parseIp('127.3.2.1')!)).toBe(true);
    expect(isLoopback(parseIp('::1')!)).toBe(true);
    expect(isLoopback(parseIp('::ffff:127.0.0.1')!)).toBe(true);
    expect(isLoopback(parseIp('10.0.0.1')!)).toBe(false);
  });
});
