import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, isIPv4, type LookupFunction } from 'node:net';

/** Where a webhook may never go unless WEBHOOK_ALLOW_PRIVATE is true, and why. */
const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (carrier-grade NAT)'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved or broadcast'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

const LISTS = RANGES.map(([network, prefix, family, reason]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, family, reason };
});

/** The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, compatible ::a.b.c.d, NAT64). */
function embeddedIPv4(address: string): string | undefined {
  const groups = expandIPv6(address);
  if (!groups) return undefined;
  const v4 = () => [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  const zeros = (n: number) => groups.slice(0, n).every((g) => g === 0);
  if (zeros(5) && groups[5] === 0xffff) return v4(); // ::ffff:0:0/96
  if (zeros(6) && (groups[6] !== 0 || groups[7] > 1)) return v4(); // ::/96, not :: or ::1
  if (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0))
    return v4(); // 64:ff9b::/96
  return undefined;
}

/** The eight 16-bit groups of an IPv6 address, dotted IPv4 tails included. */
function expandIPv6(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1].split('.').map(Number);
    text = `${text.slice(0, -tail[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const part = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = part(rest);
  const groups =
    rest === undefined
      ? left
      : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g)) ? groups : undefined;
}

/** Why a webhook may not go to this IP address, or undefined when it may. */
export function forbiddenReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 6) {
    const v4 = embeddedIPv4(address);
    if (v4 !== undefined) return forbiddenReason(v4);
  }
  const type = isIPv4(address) ? 'ipv4' : 'ipv6';
  return LISTS.find((l) => l.family === type && l.list.check(address, type))?.reason;
}

export class RefusedAddressError extends Error {
  readonly code = 'EWEBHOOKREFUSED';
}

const refusal = (host: string, address: string, reason: string) =>
  new RefusedAddressError(
    `${host} resolves to ${address}, a ${reason} address, where webhooks may not go ` +
      '(WEBHOOK_ALLOW_PRIVATE is false)',
  );

/**
 * A lookup for the connection itself: it resolves as `base` does, and fails when any
 * address is one a webhook may not go to. The check runs on the very addresses the socket
 * then connects to, so a name that changes its answer (DNS rebinding) cannot slip past it.
 */
export function guardedLookup(base: LookupFunction = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    base(hostname, options, (err, address, family) => {
      if (err) return callback(err, address, family);
      const all = Array.isArray(address) ? address : [{ address, family: family ?? 0 }];
      for (const a of all) {
        const reason = forbiddenReason(a.address);
        if (reason !== undefined) {
          return callback(
            Object.assign(refusal(hostname, a.address, reason), { errno: -1, syscall: 'lookup' }),
            '',
            0,
          );
        }
      }
      callback(null, address, family);
    });
  };
}

/** Every address a host name (or literal) stands for, through `lookup`. */
export function resolveAll(host: string, lookup: LookupFunction = dnsLookup): Promise<string[]> {
  if (isIP(host)) return Promise.resolve([host]);
  return new Promise((resolve, reject) =>
    lookup(host, { all: true }, (err, address) => {
      if (err) reject(err);
      else if (Array.isArray(address)) resolve(address.map((a) => a.address));
      else resolve([address]);
    }),
  );
}

/**
 * Why a webhook may not go to this host now (one of its addresses is forbidden, or it does
 * not resolve), or undefined.
 */
export async function refusedHost(
  host: string,
  lookup?: LookupFunction,
): Promise<string | undefined> {
  let addresses: string[];
  try {
    addresses = await resolveAll(host, lookup);
  } catch (err) {
    return `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
  for (const address of addresses) {
    const reason = forbiddenReason(address);
    if (reason !== undefined) return refusal(host, address, reason).message;
  }
  return undefined;
}

/** A URL's host as sockets take it: IPv6 literals without their brackets. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');
