/**
 * Test support: builds packets and classic pcap files, so tests can hand datagrams they made to
 * tshark, softflowd and the collector's own capture reader.
 *
 * Two levels:
 * - {@link udpPcap} / {@link writeUdpPcap}: a list of UDP payloads (NetFlow/IPFIX export datagrams)
 *   as an Ethernet capture, IPv4 or IPv6 chosen by the addresses;
 * - {@link ipPacket}, {@link ethernetFrame} and {@link classicPcap}: arbitrary IPv4/IPv6 TCP, UDP
 *   and ICMP packets (e.g. synthetic traffic for softflowd), with correct IPv4 header checksums and
 *   TCP/UDP/ICMP checksums, optional IPv4 fragmentation fields and IPv6 extension headers.
 */
import { writeFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';

/** Parses an IPv4 (4 bytes) or IPv6 (16 bytes, `::` and a dotted-quad tail allowed) address. */
export function parseIp(text: string): Uint8Array {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (!isIPv6(text)) throw new Error(`not an IP address: ${text}`);
  const groups: number[] = [];
  const halves = text.split('::');
  const parse = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((group) => {
      if (!group.includes('.')) return [Number.parseInt(group, 16)];
      const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const head = parse(halves[0]!);
  const tail = halves.length > 1 ? parse(halves[1]!) : [];
  groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

/** The transport layer of a packet built by {@link ipPacket}. */
export type Transport =
  | { kind: 'udp'; srcPort: number; dstPort: number; payload?: Uint8Array }
  | {
      kind: 'tcp';
      srcPort: number;
      dstPort: number;
      /** TCP flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, ...). */
      flags: number;
      seq?: number;
      ack?: number;
      payload?: Uint8Array;
    }
  | {
      /** ICMP for IPv4, ICMPv6 for IPv6 packets. */
      kind: 'icmp';
      type: number;
      code: number;
      /** Bytes after the 4-byte type/code/checksum header (e.g. echo identifier, sequence, data). */
      payload?: Uint8Array;
    };

/** An IPv6 extension header placed between the fixed header and the transport header. */
export interface Ipv6ExtensionHeader {
  /** Hop-by-hop 0, routing 43, fragment 44, destination options 60. */
  type: number;
  /**
   * The bytes after the next-header byte (and, for all but the fragment header, the length byte).
   * Padded with zeros to the header's 8-byte unit; the fragment header's is 6 bytes.
   */
  body?: Uint8Array;
}

/** One IP packet for {@link ipPacket}; the address family follows `src` and `dst`. */
export interface IpPacketSpec {
  src: string;
  dst: string;
  transport: Transport;
  /** IPv4 TTL or IPv6 hop limit; 64 unless set. */
  ttl?: number;
  /** IPv4 TOS or IPv6 traffic class. */
  tos?: number;
  /** IPv4 identification. */
  id?: number;
  /** IPv4 fragment offset in 8-byte units. */
  fragmentOffset?: number;
  /** IPv4 "more fragments" flag. */
  moreFragments?: boolean;
  /** IPv4 options, padded to a multiple of 4 bytes. */
  ipv4Options?: Uint8Array;
  /** IPv6 extension headers, in order. */
  ipv6ExtensionHeaders?: readonly Ipv6ExtensionHeader[];
}

const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_ICMPV6 = 58;
const IPV6_FRAGMENT = 44;

/** The Internet checksum (RFC 1071) over `parts` concatenated. */
function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const part of parts) {
    for (const byte of part) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The transport header and payload, checksum included; `pseudo` is the IP pseudo-header prefix. */
function transportBytes(
  transport: Transport,
  pseudoHeader: (length: number, proto: number) => Uint8Array | undefined,
  ipv6: boolean,
): { proto: number; bytes: Uint8Array } {
  const payload = transport.payload ?? new Uint8Array(0);
  let proto: number;
  let bytes: Uint8Array;
  let checksumAt: number;
  if (transport.kind === 'udp') {
    proto = PROTO_UDP;
    bytes = new Uint8Array(8 + payload.length);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, transport.srcPort);
    view.setUint16(2, transport.dstPort);
    view.setUint16(4, bytes.length);
    checksumAt = 6;
  } else if (transport.kind === 'tcp') {
    proto = PROTO_TCP;
    bytes = new Uint8Array(20 + payload.length);
    const view = new DataView(bytes.buffer);
    view.setUint16(0, transport.srcPort);
    view.setUint16(2, transport.dstPort);
    view.setUint32(4, transport.seq ?? 0);
    view.setUint32(8, transport.ack ?? 0);
    view.setUint8(12, 5 << 4);
    view.setUint8(13, transport.flags);
    view.setUint16(14, 65535);
    checksumAt = 16;
  } else {
    proto = ipv6 ? PROTO_ICMPV6 : PROTO_ICMP;
    bytes = new Uint8Array(4 + payload.length);
    bytes[0] = transport.type;
    bytes[1] = transport.code;
    checksumAt = 2;
  }
  bytes.set(payload, bytes.length - payload.length);
  const pseudo = proto === PROTO_ICMP ? undefined : pseudoHeader(bytes.length, proto);
  let checksum = pseudo === undefined ? internetChecksum(bytes) : internetChecksum(pseudo, bytes);
  if (proto === PROTO_UDP && checksum === 0) checksum = 0xffff; // 0 means "no checksum" for UDP
  bytes[checksumAt] = checksum >> 8;
  bytes[checksumAt + 1] = checksum & 0xff;
  return { proto, bytes };
}

/** Builds an IPv4 or IPv6 packet (from the IP header on) with correct checksums. */
export function ipPacket(spec: IpPacketSpec): Uint8Array {
  const src = parseIp(spec.src);
  const dst = parseIp(spec.dst);
  if (src.length !== dst.length) throw new Error(`mixed address families: ${spec.src} -> ${spec.dst}`);
  return src.length === 4 ? ipv4Packet(spec, src, dst) : ipv6Packet(spec, src, dst);
}

function ipv4Packet(spec: IpPacketSpec, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const { proto, bytes: transport } = transportBytes(
    spec.transport,
    (length, protocol) => {
      const pseudo = new Uint8Array(12);
      pseudo.set(src, 0);
      pseudo.set(dst, 4);
      pseudo[9] = protocol;
      pseudo[10] = length >> 8;
      pseudo[11] = length & 0xff;
      return pseudo;
    },
    false,
  );
  const options = spec.ipv4Options ?? new Uint8Array(0);
  if (options.length % 4 !== 0) throw new Error('IPv4 options must be padded to 4 bytes');
  const headerLength = 20 + options.length;
  const packet = new Uint8Array(headerLength + transport.length);
  const view = new DataView(packet.buffer);
  view.setUint8(0, 0x40 | (headerLength / 4));
  view.setUint8(1, spec.tos ?? 0);
  view.setUint16(2, packet.length);
  view.setUint16(4, spec.id ?? 0);
  view.setUint16(6, (spec.moreFragments ? 0x2000 : 0) | (spec.fragmentOffset ?? 0));
  view.setUint8(8, spec.ttl ?? 64);
  view.setUint8(9, proto);
  packet.set(src, 12);
  packet.set(dst, 16);
  packet.set(options, 20);
  view.setUint16(10, internetChecksum(packet.subarray(0, headerLength)));
  packet.set(transport, headerLength);
  return packet;
}

function ipv6Packet(spec: IpPacketSpec, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const { proto, bytes: transport } = transportBytes(
    spec.transport,
    (length, protocol) => {
      const pseudo = new Uint8Array(40);
      pseudo.set(src, 0);
      pseudo.set(dst, 16);
      new DataView(pseudo.buffer).setUint32(32, length);
      pseudo[39] = protocol;
      return pseudo;
    },
    true,
  );
  const extensions = spec.ipv6ExtensionHeaders ?? [];
  const encoded = extensions.map((header, i) => {
    const next = extensions[i + 1]?.type ?? proto;
    const body = header.body ?? new Uint8Array(0);
    if (header.type === IPV6_FRAGMENT) {
      const bytes = new Uint8Array(8);
      bytes[0] = next;
      bytes.set(body.subarray(0, 6), 2);
      return bytes;
    }
    const length = Math.ceil((body.length + 2) / 8) * 8;
    const bytes = new Uint8Array(length);
    bytes[0] = next;
    bytes[1] = length / 8 - 1;
    bytes.set(body, 2);
    return bytes;
  });
  const extensionLength = encoded.reduce((sum, bytes) => sum + bytes.length, 0);
  const packet = new Uint8Array(40 + extensionLength + transport.length);
  const view = new DataView(packet.buffer);
  view.setUint32(0, (6 << 28) | ((spec.tos ?? 0) << 20));
  view.setUint16(4, extensionLength + transport.length);
  view.setUint8(6, extensions[0]?.type ?? proto);
  view.setUint8(7, spec.ttl ?? 64);
  packet.set(src, 8);
  packet.set(dst, 24);
  let at = 40;
  for (const bytes of encoded) {
    packet.set(bytes, at);
    at += bytes.length;
  }
  packet.set(transport, at);
  return packet;
}

/** Options of {@link ethernetFrame}. */
export interface EthernetOptions {
  srcMac?: string;
  dstMac?: string;
  /** 802.1Q VLAN IDs, outermost first; the outer tags of a QinQ stack use TPID 0x88a8. */
  vlanIds?: readonly number[];
}

function parseMac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((octet) => Number.parseInt(octet, 16)));
}

/** Wraps an IP packet in an Ethernet II frame (EtherType from the IP version nibble). */
export function ethernetFrame(ip: Uint8Array, options: EthernetOptions = {}): Uint8Array {
  const vlanIds = options.vlanIds ?? [];
  const frame = new Uint8Array(14 + 4 * vlanIds.length + ip.length);
  const view = new DataView(frame.buffer);
  frame.set(parseMac(options.dstMac ?? '02:00:00:00:00:02'), 0);
  frame.set(parseMac(options.srcMac ?? '02:00:00:00:00:01'), 6);
  let at = 12;
  vlanIds.forEach((id, i) => {
    view.setUint16(at, i < vlanIds.length - 1 ? 0x88a8 : 0x8100);
    view.setUint16(at + 2, id & 0x0fff);
    at += 4;
  });
  view.setUint16(at, ip[0]! >> 4 === 6 ? 0x86dd : 0x0800);
  frame.set(ip, at + 2);
  return frame;
}

/** One packet record of a capture file. */
export interface CaptureRecord {
  /** Milliseconds since the Unix epoch; fractions kept to the file's resolution. */
  timestamp: number;
  /** The frame as captured (already cut to the snap length, if any). */
  data: Uint8Array;
  /** The frame's length on the wire; `data.length` unless set. */
  originalLength?: number;
}

/** Options of {@link classicPcap}. */
export interface ClassicPcapOptions {
  /** LINKTYPE_ value; 1 (Ethernet) unless set. */
  linkType?: number;
  /** Nanosecond instead of microsecond timestamps. */
  nanosecond?: boolean;
  /** Little-endian instead of big-endian headers. */
  littleEndian?: boolean;
  snapLength?: number;
}

/** Encodes a classic pcap file (version 2.4). */
export function classicPcap(records: readonly CaptureRecord[], options: ClassicPcapOptions = {}): Uint8Array {
  const little = options.littleEndian ?? false;
  const nanosecond = options.nanosecond ?? false;
  const size = 24 + records.reduce((sum, record) => sum + 16 + record.data.length, 0);
  const file = new Uint8Array(size);
  const view = new DataView(file.buffer);
  view.setUint32(0, nanosecond ? 0xa1b23c4d : 0xa1b2c3d4, little);
  view.setUint16(4, 2, little);
  view.setUint16(6, 4, little);
  view.setUint32(16, options.snapLength ?? 262144, little);
  view.setUint32(20, options.linkType ?? 1, little);
  const unitsPerSecond = nanosecond ? 1e9 : 1e6;
  let at = 24;
  for (const record of records) {
    let seconds = Math.floor(record.timestamp / 1000);
    let fraction = Math.round((record.timestamp - seconds * 1000) * (unitsPerSecond / 1000));
    if (fraction >= unitsPerSecond) {
      seconds++;
      fraction -= unitsPerSecond;
    }
    view.setUint32(at, seconds, little);
    view.setUint32(at + 4, fraction, little);
    view.setUint32(at + 8, record.data.length, little);
    view.setUint32(at + 12, record.originalLength ?? record.data.length, little);
    file.set(record.data, at + 16);
    at += 16 + record.data.length;
  }
  return file;
}

/** One UDP datagram for {@link udpPcap}; unset fields get the defaults documented on each. */
export interface UdpDatagramSpec {
  payload: Uint8Array;
  /** 192.0.2.1 unless set (2001:db8::1 when `dstAddr` is IPv6). */
  srcAddr?: string;
  /** 50000 unless set. */
  srcPort?: number;
  /** 192.0.2.100 (2001:db8::100 when `srcAddr` is IPv6) unless set. */
  dstAddr?: string;
  /** 2055 unless set. */
  dstPort?: number;
  /** Milliseconds since the epoch; one second after the previous datagram (first: 2024-01-01) unless set. */
  timestamp?: number;
}

const DEFAULT_START = Date.UTC(2024, 0, 1);

/** Encodes UDP datagrams as an Ethernet classic pcap (microsecond timestamps). */
export function udpPcap(datagrams: readonly UdpDatagramSpec[]): Uint8Array {
  let previous = DEFAULT_START - 1000;
  const records = datagrams.map((datagram) => {
    const ipv6 = [datagram.srcAddr, datagram.dstAddr].some((addr) => addr?.includes(':'));
    const timestamp = datagram.timestamp ?? previous + 1000;
    previous = timestamp;
    const ip = ipPacket({
      src: datagram.srcAddr ?? (ipv6 ? '2001:db8::1' : '192.0.2.1'),
      dst: datagram.dstAddr ?? (ipv6 ? '2001:db8::100' : '192.0.2.100'),
      transport: {
        kind: 'udp',
        srcPort: datagram.srcPort ?? 50000,
        dstPort: datagram.dstPort ?? 2055,
        payload: datagram.payload,
      },
    });
    return { timestamp, data: ethernetFrame(ip) };
  });
  return classicPcap(records);
}

/** Writes {@link udpPcap} of `datagrams` to `path`. */
export async function writeUdpPcap(path: string, datagrams: readonly UdpDatagramSpec[]): Promise<void> {
  await writeFile(path, udpPcap(datagrams));
}
