import type { LookupFunction } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { forbiddenReason, guardedLookup, refusedHost } from './address-guard.js';

describe('forbiddenReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.10', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved or broadcast'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fc00::1', 'private (unique local)'],
    ['fd12:3456::1', 'private (unique local)'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link-local (cloud metadata)'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local (cloud metadata)'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'private'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(forbiddenReason(address)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '172.32.0.1',
    '172.15.255.255',
    '203.0.113.7',
    '2001:db8::1',
    '::ffff:8.8.4.4',
  ])('allows %s', (address) => {
    expect(forbiddenReason(address)).toBeUndefined();
  });
});

/** Resolves every name to the given addresses, as dns.lookup answers. */
const resolvingTo =
  (...addresses: string[]): LookupFunction =>
  (_host, options, callback) => {
    const all = addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    if (options.all) callback(null, all);
    else callback(null, all[0].address, all[0].family);
  };

describe('guardedLookup', () => {
  const look = (base: LookupFunction, all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
      guardedLookup(base)('hooks.example', { all }, (err, address) => resolve({ err, address })),
    );

  it('passes public addresses through, in either form of answer', async () => {
    expect((await look(resolvingTo('203.0.113.7'), false)).address).toBe('203.0.113.7');
    expect((await look(resolvingTo('203.0.113.7', '2001:db8::1'), true)).address).toEqual([
      { address: '203.0.113.7', family: 4 },
      { address: '2001:db8::1', family: 6 },
    ]);
  });

  it('fails when any address is forbidden', async () => {
    const { err } = await look(resolvingTo('203.0.113.7', '::ffff:127.0.0.1'), true);
    expect(err?.code).toBe('EWEBHOOKREFUSED');
    expect(err?.message).toMatch(/hooks\.example resolves to ::ffff:127\.0\.0\.1, a loopback/);
    expect((await look(resolvingTo('10.0.0.7'), false)).err?.code).toBe('EWEBHOOKREFUSED');
  });
});

describe('refusedHost', () => {
  it('names the forbidden address a host resolves to, or a host that does not resolve', async () => {
    expect(await refusedHost('hooks.example', resolvingTo('192.168.1.1'))).toMatch(/private/);
    expect(await refusedHost('hooks.example', resolvingTo('203.0.113.7'))).toBeUndefined();
    expect(await refusedHost('169.254.169.254')).toMatch(/link-local/);
    const missing: LookupFunction = (host, _o, callback) =>
      callback(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }), '', 0);
    expect(await refusedHost('nowhere.example', missing)).toMatch(/does not resolve \(ENOTFOUND\)/);
  });
});
