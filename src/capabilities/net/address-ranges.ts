// Addresses a name-based grant may not reach: loopback, private, link-local, shared (CGNAT),
// unspecified, multicast, reserved and cloud metadata addresses. A grant reaches one of them only by
// naming the address itself ('127.0.0.1:8080'); 'api.example.com' resolving to 10.0.0.5 is refused.
import type { BlockList } from 'node:net';
import { nodeNet } from '../../core/lazy-builtins.js';

const V4: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'], // includes the 169.254.169.254 metadata service
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // includes the 255.255.255.255 broadcast
  ['168.63.129.16', 32, 'metadata'], // Azure's host service
];
const V6: [string, number, string][] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'private'], // includes fd00:ec2::254, a metadata service
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

/** The ranges as BlockLists, made at the first check: most processes never check an address. */
let ranges: { kind: string; list: BlockList }[] | null = null;
function specialRanges(): { kind: string; list: BlockList }[] {
  return (ranges ??= V4.map(([net, bits, kind]) => ({ kind, list: subnet(net, bits, 'ipv4') })).concat(
    V6.map(([net, bits, kind]) => ({ kind, list: subnet(net, bits, 'ipv6') })),
  ));
}

function subnet(net: string, bits: number, family: 'ipv4' | 'ipv6'): BlockList {
  const list = new (nodeNet().BlockList)();
  list.addSubnet(net, bits, family);
  return list;
}

/** The eight 16-bit groups of an IPv6 address. */
function groups(v6: string): number[] {
  const [head, tail = ''] = v6.includes('::') ? v6.split('::') : [v6, undefined];
  const parse = (part: string | undefined) => {
    if (!part) return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a, b, c, d] = g.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = parse(head);
  const t = v6.includes('::') ? parse(tail) : [];
  return [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

/** An IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4), if any. */
function embeddedV4(v6: string): string | null {
  const g = groups(v6);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(5) && (g[5] === 0xffff || g[5] === 0)) return v4(g[6], g[7]); // ::ffff:a.b.c.d, ::a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6], g[7]); // 64:ff9b::/96
  if (g[0] === 0x2002) return v4(g[1], g[2]); // 6to4
  return null;
}

/** Why an address may not be reached by a name-based grant ('loopback', ...), or null. */
export function specialAddressKind(address: string): string | null {
  const family = nodeNet().isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { kind, list } of specialRanges()) if (list.check(address, type)) return kind;
  if (family === 6) {
    const inner = embeddedV4(address);
    if (inner) return specialAddressKind(inner);
  }
  return null;
}

/** The form a URL gives an address (what allow-list rules hold): IPv6 in brackets, compressed. */
export function canonicalAddress(address: string): string {
  return new URL(`http://${nodeNet().isIP(address) === 6 ? `[${address}]` : address}`).hostname;
}
