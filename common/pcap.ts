/**
 * A pure reader of packet capture files that yields the UDP datagrams inside them: what
 * `flowcast decode` and `flowcast replay` use to take NetFlow/IPFIX export traffic from a capture.
 *
 * Containers: classic pcap (either byte order, microsecond and nanosecond magic) and pcapng (any
 * number of sections of either byte order; Interface Description, Enhanced, Simple and obsolete
 * Packet Blocks; `if_tsresol` and `if_tsoffset`; every other block is skipped).
 *
 * Link types: null/loopback (0) and OpenBSD loopback (108), Ethernet (1) with any number of
 * 802.1Q / 802.1ad / QinQ tags, raw IP (101, 12, 14, 228, 229), Linux cooked SLL (113) and SLL2
 * (276). Network layer: IPv4 (non-first fragments skipped, first fragments reported, since nothing
 * is reassembled) and IPv6 (hop-by-hop, routing, destination options, fragment and AH extension
 * headers walked).
 *
 * The reader never throws on bad input: whatever stopped it or made it drop a packet is reported in
 * `errors`, and every datagram read up to that point is returned.
 */
import { formatIPv4, formatIPv6 } from '../collector/decode/addr.js';

/** One UDP datagram found in a capture. */
export interface UdpDatagram {
  /** Capture time, milliseconds since the Unix epoch (fractional for micro/nanosecond captures). */
  timestamp: number;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  /** The UDP payload: a view into the file's bytes, not a copy. */
  payload: Uint8Array;
}

/** What {@link readUdpDatagrams} found. */
export interface PcapReadResult {
  /** Every complete UDP datagram, in file order. */
  datagrams: UdpDatagram[];
  /**
   * Why the reader stopped early or dropped packets (unsupported link types, truncated packets,
   * unreassembled fragments, a corrupt or truncated file), each prefixed with where it happened.
   * Empty for a clean file. Packets that simply are not UDP are skipped without a message.
   */
  errors: string[];
}

/** Per-packet messages kept before the rest are only counted, so a bad large file stays bounded. */
const MAX_PACKET_ERRORS = 100;

/**
 * Reads a classic pcap or pcapng file and returns the UDP datagrams in it, in file order.
 *
 * A packet without a timestamp (pcapng Simple Packet Block) gets the timestamp of the packet before
 * it, or 0 when it is the first. Never throws.
 */
export function readUdpDatagrams(file: Uint8Array): PcapReadResult {
  const sink = new Sink();
  if (file.length < 4) {
    sink.fatal(`not a capture file: ${file.length} bytes`);
    return sink.result();
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, false);
  if (magic === PCAPNG_SHB) {
    readPcapng(file, view, sink);
  } else if (CLASSIC_MAGIC.has(magic)) {
    readClassic(file, view, sink);
  } else {
    sink.fatal(`not a pcap or pcapng file: magic 0x${magic.toString(16).padStart(8, '0')}`);
  }
  return sink.result();
}

/** Collects datagrams and messages. */
class Sink {
  readonly datagrams: UdpDatagram[] = [];
  private readonly errors: string[] = [];
  private packetErrors = 0;
  /** Number of the packet being read, from 1, as Wireshark numbers frames. */
  packetNumber = 0;

  /** A problem with the current packet; the reader goes on with the next. */
  packet(message: string): void {
    this.packetErrors++;
    if (this.packetErrors <= MAX_PACKET_ERRORS) this.errors.push(`packet ${this.packetNumber}: ${message}`);
  }

  /** Why the reader stopped. */
  fatal(message: string): void {
    this.errors.push(message);
  }

  result(): PcapReadResult {
    if (this.packetErrors > MAX_PACKET_ERRORS) {
      this.errors.push(`${this.packetErrors - MAX_PACKET_ERRORS} more packet errors not listed`);
    }
    return { datagrams: this.datagrams, errors: this.errors };
  }
}

// ---------------------------------------------------------------------------------------------
// Classic pcap

/** Microsecond and nanosecond magic, as read big-endian from a file of either byte order. */
const MAGIC_US = 0xa1b2c3d4;
const MAGIC_NS = 0xa1b23c4d;
const MAGIC_US_SWAPPED = 0xd4c3b2a1;
const MAGIC_NS_SWAPPED = 0x4d3cb2a1;
const CLASSIC_MAGIC = new Set([MAGIC_US, MAGIC_NS, MAGIC_US_SWAPPED, MAGIC_NS_SWAPPED]);
const CLASSIC_HEADER = 24;
const CLASSIC_RECORD_HEADER = 16;

function readClassic(file: Uint8Array, view: DataView, sink: Sink): void {
  const magic = view.getUint32(0, false);
  const little = magic === MAGIC_US_SWAPPED || magic === MAGIC_NS_SWAPPED;
  const fractionToMs = magic === MAGIC_NS || magic === MAGIC_NS_SWAPPED ? 1e-6 : 1e-3;
  if (file.length < CLASSIC_HEADER) {
    sink.fatal(`truncated pcap file header: ${file.length} of ${CLASSIC_HEADER} bytes`);
    return;
  }
  // The low 16 bits are the link type; the upper bits may carry FCS information, not needed here
  // because each packet is cut to its IP length.
  const linkType = view.getUint32(20, little) & 0xffff;
  if (!SUPPORTED_LINK_TYPES.has(linkType)) {
    sink.fatal(`unsupported link type ${linkType}`);
    return;
  }

  let offset = CLASSIC_HEADER;
  while (offset < file.length) {
    sink.packetNumber++;
    if (offset + CLASSIC_RECORD_HEADER > file.length) {
      sink.fatal(`truncated record header of packet ${sink.packetNumber} at offset ${offset}`);
      return;
    }
    const seconds = view.getUint32(offset, little);
    const fraction = view.getUint32(offset + 4, little);
    const capturedLength = view.getUint32(offset + 8, little);
    const dataStart = offset + CLASSIC_RECORD_HEADER;
    if (dataStart + capturedLength > file.length) {
      sink.fatal(
        `truncated packet ${sink.packetNumber} at offset ${offset}: ` +
          `${file.length - dataStart} of ${capturedLength} bytes present`,
      );
      return;
    }
    const timestamp = seconds * 1000 + fraction * fractionToMs;
    extractUdp(linkType, file, dataStart, dataStart + capturedLength, timestamp, sink);
    offset = dataStart + capturedLength;
  }
}

// ---------------------------------------------------------------------------------------------
// pcapng

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
const BLOCK_IDB = 1;
const BLOCK_OBSOLETE_PACKET = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const OPTION_END = 0;
const OPTION_IF_TSRESOL = 9;
const OPTION_IF_TSOFFSET = 14;

interface PcapngInterface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second (10^6 unless if_tsresol says otherwise). */
  unitsPerSecond: bigint;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSeconds: bigint;
}

function readPcapng(file: Uint8Array, view: DataView, sink: Sink): void {
  let little = false;
  let interfaces: PcapngInterface[] = [];
  const reportedInterfaces = new Set<number>();
  // Simple Packet Blocks carry no timestamp: they get the one of the packet before them.
  let lastTimestamp = 0;
  let offset = 0;

  while (offset < file.length) {
    if (offset + 12 > file.length) {
      sink.fatal(`truncated block header at offset ${offset}`);
      return;
    }
    const isSectionHeader = view.getUint32(offset, false) === PCAPNG_SHB;
    if (isSectionHeader) {
      const byteOrder = view.getUint32(offset + 8, false);
      if (byteOrder === PCAPNG_BYTE_ORDER_MAGIC) little = false;
      else if (byteOrder === PCAPNG_BYTE_ORDER_MAGIC_SWAPPED) little = true;
      else {
        sink.fatal(`bad section header byte-order magic at offset ${offset}`);
        return;
      }
      interfaces = [];
      reportedInterfaces.clear();
    }
    const type = view.getUint32(offset, little);
    const length = view.getUint32(offset + 4, little);
    if (length < 12 || length % 4 !== 0) {
      sink.fatal(`bad block length ${length} at offset ${offset}`);
      return;
    }
    if (offset + length > file.length) {
      sink.fatal(`truncated block at offset ${offset}: ${file.length - offset} of ${length} bytes present`);
      return;
    }
    if (view.getUint32(offset + length - 4, little) !== length) {
      sink.fatal(`block at offset ${offset}: trailing length does not match ${length}`);
      return;
    }
    const bodyStart = offset + 8;
    const bodyEnd = offset + length - 4;

    if (type === BLOCK_IDB) {
      const parsed = parseInterface(file, view, bodyStart, bodyEnd, little);
      if (typeof parsed === 'string') {
        sink.fatal(`interface description block at offset ${offset}: ${parsed}`);
        return;
      }
      interfaces.push(parsed);
    } else if (type === BLOCK_EPB || type === BLOCK_OBSOLETE_PACKET || type === BLOCK_SPB) {
      sink.packetNumber++;
      const packet = locatePacket(type, view, bodyStart, bodyEnd, little, interfaces);
      if (typeof packet === 'string') {
        sink.packet(`block at offset ${offset}: ${packet}`);
      } else {
        lastTimestamp = packet.timestamp ?? lastTimestamp;
        if (SUPPORTED_LINK_TYPES.has(packet.iface.linkType)) {
          extractUdp(packet.iface.linkType, file, packet.start, packet.end, lastTimestamp, sink);
        } else if (!reportedInterfaces.has(packet.interfaceId)) {
          reportedInterfaces.add(packet.interfaceId);
          sink.packet(`interface ${packet.interfaceId} has unsupported link type ${packet.iface.linkType}`);
        }
      }
    }
    offset += length;
  }
}

/** Parses an IDB body; a string says what is wrong with it. */
function parseInterface(
  file: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  little: boolean,
): PcapngInterface | string {
  if (end - start < 8) return 'body shorter than 8 bytes';
  const iface: PcapngInterface = {
    linkType: view.getUint16(start, little),
    snapLength: view.getUint32(start + 4, little),
    unitsPerSecond: 1_000_000n,
    offsetSeconds: 0n,
  };
  let offset = start + 8;
  while (offset + 4 <= end) {
    const code = view.getUint16(offset, little);
    const optionLength = view.getUint16(offset + 2, little);
    const value = offset + 4;
    if (code === OPTION_END) break;
    if (value + optionLength > end) return `option ${code} overruns the block`;
    if (code === OPTION_IF_TSRESOL && optionLength >= 1) {
      const resolution = file[value]!;
      const exponent = BigInt(resolution & 0x7f);
      iface.unitsPerSecond = resolution & 0x80 ? 2n ** exponent : 10n ** exponent;
    } else if (code === OPTION_IF_TSOFFSET && optionLength >= 8) {
      iface.offsetSeconds = view.getBigInt64(value, little);
    }
    offset = value + ((optionLength + 3) & ~3);
  }
  return iface;
}

interface LocatedPacket {
  interfaceId: number;
  iface: PcapngInterface;
  /** Undefined for a Simple Packet Block, which has none. */
  timestamp: number | undefined;
  start: number;
  end: number;
}

/** Finds the packet data and timestamp of an EPB, SPB or obsolete Packet Block. */
function locatePacket(
  type: number,
  view: DataView,
  start: number,
  end: number,
  little: boolean,
  interfaces: readonly PcapngInterface[],
): LocatedPacket | string {
  if (type === BLOCK_SPB) {
    const iface = interfaces[0];
    if (iface === undefined) return 'simple packet block before any interface description';
    if (end - start < 4) return 'simple packet block shorter than its header';
    const originalLength = view.getUint32(start, little);
    let captured = Math.min(originalLength, end - start - 4);
    if (iface.snapLength > 0) captured = Math.min(captured, iface.snapLength);
    return { interfaceId: 0, iface, timestamp: undefined, start: start + 4, end: start + 4 + captured };
  }

  const enhanced = type === BLOCK_EPB;
  const headerLength = 20;
  if (end - start < headerLength) return 'packet block shorter than its header';
  const interfaceId = enhanced ? view.getUint32(start, little) : view.getUint16(start, little);
  const iface = interfaces[interfaceId];
  if (iface === undefined) return `packet for undeclared interface ${interfaceId}`;
  const high = view.getUint32(start + 4, little);
  const low = view.getUint32(start + 8, little);
  const captured = view.getUint32(start + 12, little);
  const dataStart = start + headerLength;
  if (captured > end - dataStart) {
    return `captured length ${captured} exceeds the block (${end - dataStart} bytes)`;
  }
  const timestamp = pcapngTimestamp(high, low, iface);
  return { interfaceId, iface, timestamp, start: dataStart, end: dataStart + captured };
}

/** A 64-bit pcapng timestamp in units of the interface's resolution, as ms since the epoch. */
function pcapngTimestamp(high: number, low: number, iface: PcapngInterface): number {
  const units = (BigInt(high) << 32n) | BigInt(low);
  const seconds = units / iface.unitsPerSecond + iface.offsetSeconds;
  const remainder = units % iface.unitsPerSecond;
  return Number(seconds) * 1000 + (Number(remainder) * 1000) / Number(iface.unitsPerSecond);
}

// ---------------------------------------------------------------------------------------------
// Link, network and transport layers

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW_12 = 12;
const LINKTYPE_RAW_14 = 14;
const LINKTYPE_RAW = 101;
const LINKTYPE_LOOP = 108;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_LINUX_SLL2 = 276;
const SUPPORTED_LINK_TYPES = new Set([
  LINKTYPE_NULL,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW_12,
  LINKTYPE_RAW_14,
  LINKTYPE_RAW,
  LINKTYPE_LOOP,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL2,
]);

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = new Set([0x8100, 0x88a8, 0x9100]);
const PROTO_UDP = 17;
const UDP_HEADER = 8;

/** Finds the IP packet in a link-layer frame `bytes[start..end)` and passes it on. */
function extractUdp(
  linkType: number,
  bytes: Uint8Array,
  start: number,
  end: number,
  timestamp: number,
  sink: Sink,
): void {
  let ip = start;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      ip = afterEthertype(bytes, start + 12, end);
      break;
    case LINKTYPE_LINUX_SLL:
      ip = afterEthertype(bytes, start + 14, end);
      break;
    case LINKTYPE_LINUX_SLL2:
      if (end - start < 20) return;
      ip = isIpEthertype(bytes, start) ? start + 20 : -1;
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP:
      // The address family is in the capturing host's byte order (NULL) and its value differs
      // between systems for IPv6 (10, 24, 28, 30): the IP version nibble after it is what counts.
      ip = start + 4;
      break;
    default:
      break; // raw IP
  }
  if (ip < 0 || ip >= end) return;

  const version = bytes[ip]! >> 4;
  if (version === 4) readIPv4(bytes, ip, end, timestamp, sink);
  else if (version === 6) readIPv6(bytes, ip, end, timestamp, sink);
}

/** Whether the big-endian EtherType at `offset` is IPv4 or IPv6. */
function isIpEthertype(bytes: Uint8Array, offset: number): boolean {
  const type = (bytes[offset]! << 8) | bytes[offset + 1]!;
  return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6;
}

/** Walks VLAN tags from the EtherType at `offset`; returns where the IP header starts, or -1. */
function afterEthertype(bytes: Uint8Array, offset: number, end: number): number {
  let at = offset;
  while (at + 2 <= end) {
    const type = (bytes[at]! << 8) | bytes[at + 1]!;
    if (ETHERTYPE_VLAN.has(type)) {
      at += 4;
      continue;
    }
    return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? at + 2 : -1;
  }
  return -1;
}

function readIPv4(bytes: Uint8Array, ip: number, end: number, timestamp: number, sink: Sink): void {
  if (end - ip < 20) {
    if (end - ip < 10 || bytes[ip + 9] === PROTO_UDP) sink.packet('truncated IPv4 header');
    return;
  }
  const headerLength = (bytes[ip]! & 0x0f) * 4;
  const totalLength = (bytes[ip + 2]! << 8) | bytes[ip + 3]!;
  const protocol = bytes[ip + 9]!;
  if (protocol !== PROTO_UDP) return;
  if (headerLength < 20 || totalLength < headerLength) {
    sink.packet(`bad IPv4 header (header ${headerLength} bytes, total ${totalLength})`);
    return;
  }
  const fragment = (bytes[ip + 6]! << 8) | bytes[ip + 7]!;
  const fragmentOffset = fragment & 0x1fff;
  if (fragmentOffset !== 0) return; // a later fragment: no UDP header in it
  if (fragment & 0x2000) {
    sink.packet('first fragment of a fragmented IPv4 datagram; fragments are not reassembled');
    return;
  }
  // Cut Ethernet padding and trailers (FCS) off at the IP length.
  const packetEnd = ip + totalLength;
  if (packetEnd > end) {
    sink.packet(`IPv4 packet truncated: ${end - ip} of ${totalLength} bytes captured`);
    return;
  }
  readUdp(
    bytes,
    ip + headerLength,
    packetEnd,
    formatIPv4(bytes, ip + 12),
    formatIPv4(bytes, ip + 16),
    timestamp,
    sink,
  );
}

const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
/** Hop-by-hop options, routing, fragment, authentication header, destination options. */
const IPV6_EXTENSION_HEADERS = new Set([0, 43, IPV6_FRAGMENT, IPV6_AH, 60]);

function readIPv6(bytes: Uint8Array, ip: number, end: number, timestamp: number, sink: Sink): void {
  if (end - ip < 40) {
    const next = end - ip > 6 ? bytes[ip + 6]! : PROTO_UDP;
    if (next === PROTO_UDP || IPV6_EXTENSION_HEADERS.has(next)) sink.packet('truncated IPv6 header');
    return;
  }
  const payloadLength = (bytes[ip + 4]! << 8) | bytes[ip + 5]!;
  const packetEnd = ip + 40 + payloadLength;
  const truncated = (): string =>
    `IPv6 packet truncated: ${end - ip} of ${40 + payloadLength} bytes captured`;
  // Walk the extension headers within what was captured: a cut-off packet is only reported once it
  // is known to be UDP (or cannot be known).
  const limit = Math.min(packetEnd, end);
  let next = bytes[ip + 6]!;
  let at = ip + 40;
  while (next !== PROTO_UDP) {
    if (!IPV6_EXTENSION_HEADERS.has(next)) return; // no next header, or a transport other than UDP
    if (at + 8 > limit) {
      sink.packet(packetEnd > end ? truncated() : 'IPv6 extension header overruns the packet');
      return;
    }
    if (next === IPV6_FRAGMENT) {
      const fragment = (bytes[at + 2]! << 8) | bytes[at + 3]!;
      if (fragment & 0xfff8) return; // a later fragment: no UDP header in it
      if (fragment & 1) {
        if (bytes[at]! === PROTO_UDP) {
          sink.packet('first fragment of a fragmented IPv6 datagram; fragments are not reassembled');
        }
        return;
      }
      next = bytes[at]!;
      at += 8;
    } else {
      const length = next === IPV6_AH ? (bytes[at + 1]! + 2) * 4 : (bytes[at + 1]! + 1) * 8;
      next = bytes[at]!;
      at += length;
    }
  }
  if (packetEnd > end) {
    sink.packet(truncated());
    return;
  }
  readUdp(bytes, at, packetEnd, formatIPv6(bytes, ip + 8), formatIPv6(bytes, ip + 24), timestamp, sink);
}

function readUdp(
  bytes: Uint8Array,
  udp: number,
  end: number,
  srcAddr: string,
  dstAddr: string,
  timestamp: number,
  sink: Sink,
): void {
  if (udp + UDP_HEADER > end) {
    sink.packet('truncated UDP header');
    return;
  }
  const udpLength = (bytes[udp + 4]! << 8) | bytes[udp + 5]!;
  if (udpLength < UDP_HEADER || udp + udpLength > end) {
    sink.packet(`bad UDP length ${udpLength} (${end - udp} bytes after the IP header)`);
    return;
  }
  sink.datagrams.push({
    timestamp,
    srcAddr,
    srcPort: (bytes[udp]! << 8) | bytes[udp + 1]!,
    dstAddr,
    dstPort: (bytes[udp + 2]! << 8) | bytes[udp + 3]!,
    payload: bytes.subarray(udp + UDP_HEADER, udp + udpLength),
  });
}
