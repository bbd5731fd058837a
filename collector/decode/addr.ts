/**
 * Text forms of binary addresses: IPv4 dotted quad, IPv6 per RFC 5952, and MAC addresses.
 *
 * These run on the decode hot path (every flow record carries two or more addresses), so they read
 * straight from the byte array and build strings from precomputed tables rather than going through
 * `DataView`, `toString(16)` per byte or Node's `net` helpers.
 */

/** "0" ... "255": the decimal text of every octet. */
const DECIMAL_OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/** "00" ... "ff": the two-digit lowercase hex text of every octet. */
const HEX_OCTETS: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Formats the four bytes at `offset` as a dotted-quad IPv4 address ("192.0.2.1").
 * The caller guarantees that `offset + 4 <= bytes.length`.
 */
export function formatIPv4(bytes: Uint8Array, offset: number): string {
  // Three concatenations of "octet." pieces rather than seven of octets and dots: fewer
  // intermediate strings on the decode hot path.
  return (
    DOTTED_OCTETS[bytes[offset]!]! +
    DOTTED_OCTETS[bytes[offset + 1]!]! +
    DOTTED_OCTETS[bytes[offset + 2]!]! +
    DECIMAL_OCTETS[bytes[offset + 3]!]!
  );
}

/** Formats an IPv4 address held as an unsigned 32-bit integer. */
export function formatIPv4Number(n: number): string {
  return (
    DOTTED_OCTETS[n >>> 24]! +
    DOTTED_OCTETS[(n >>> 16) & 255]! +
    DOTTED_OCTETS[(n >>> 8) & 255]! +
    DECIMAL_OCTETS[n & 255]!
  );
}

/** "0." ... "255.": an octet and the dot after it. */
const DOTTED_OCTETS: readonly string[] = DECIMAL_OCTETS.map((o) => `${o}.`);

/**
 * Formats the sixteen bytes at `offset` as an IPv6 address in the canonical text form of RFC 5952:
 *
 * - hex digits in lowercase, leading zeros of each 16-bit group dropped (§4.1, §4.3);
 * - the longest run of two or more all-zero groups is replaced by `::`; of equally long runs the
 *   first one is; a lone zero group is written `0`, never `::` (§4.2);
 * - IPv4-mapped addresses (`::ffff:0:0/96`) end in dotted-quad form, `::ffff:192.0.2.1`, as §5
 *   recommends. This is also how Node reports an IPv4 peer on a dual-stack socket, so an exporter
 *   address and the same address inside a record compare equal as strings. No other prefix
 *   (IPv4-compatible `::/96`, NAT64 `64:ff9b::/96`, ...) gets the mixed form.
 *
 * The caller guarantees that `offset + 16 <= bytes.length`.
 */
export function formatIPv6(bytes: Uint8Array, offset: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) {
    groups[i] = (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
  }

  if (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  ) {
    return `::ffff:${formatIPv4(bytes, offset + 12)}`;
  }

  // The first longest run of zero groups; runs of one group are not compressed (RFC 5952 §4.2.2).
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && groups[i] === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (i - runStart > bestLength) {
        bestStart = runStart;
        bestLength = i - runStart;
      }
      runStart = -1;
    }
  }

  if (bestStart < 0) return hexGroups(groups, 0, 8);
  return `${hexGroups(groups, 0, bestStart)}::${hexGroups(groups, bestStart + bestLength, 8)}`;
}

/** The bytes `formatIPv6Words` formats from: one per process, formatting is synchronous. */
const WORDS_BYTES = new Uint8Array(16);

/**
 * Formats an IPv6 address held as four 32-bit words, most significant first (as `readI32` reads
 * them, signed or not): the same text `formatIPv6` makes of its sixteen bytes.
 */
export function formatIPv6Words(w0: number, w1: number, w2: number, w3: number): string {
  const b = WORDS_BYTES;
  b[0] = w0 >>> 24;
  b[1] = w0 >>> 16;
  b[2] = w0 >>> 8;
  b[3] = w0;
  b[4] = w1 >>> 24;
  b[5] = w1 >>> 16;
  b[6] = w1 >>> 8;
  b[7] = w1;
  b[8] = w2 >>> 24;
  b[9] = w2 >>> 16;
  b[10] = w2 >>> 8;
  b[11] = w2;
  b[12] = w3 >>> 24;
  b[13] = w3 >>> 16;
  b[14] = w3 >>> 8;
  b[15] = w3;
  return formatIPv6(b, 0);
}

/** `groups[from..to)` as colon-separated hex without leading zeros. */
function hexGroups(groups: readonly number[], from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) {
    if (i > from) text += ':';
    text += groups[i]!.toString(16);
  }
  return text;
}

/**
 * Formats the six bytes at `offset` as a MAC address: lowercase, colon-separated, two digits per
 * octet ("00:1b:21:3c:4d:5e"). The caller guarantees that `offset + 6 <= bytes.length`.
 */
export function formatMac(bytes: Uint8Array, offset: number): string {
  return `${HEX_OCTETS[bytes[offset]!]}:${HEX_OCTETS[bytes[offset + 1]!]}:${HEX_OCTETS[bytes[offset + 2]!]}:${HEX_OCTETS[bytes[offset + 3]!]}:${HEX_OCTETS[bytes[offset + 4]!]}:${HEX_OCTETS[bytes[offset + 5]!]}`;
}
