/**
 * Datagrams in transit from the receiving thread to a decode worker: many to one ArrayBuffer,
 * which is transferred (never copied) with one message, and handed back for reuse once the worker
 * has taken the datagrams out. One message per datagram cost more than decoding it.
 *
 * An entry: u32 payload length, f64 receipt time (Unix ms), u16 source port, u8 address length,
 * the address as ASCII text, then the payload.
 */

const HEADER = 4 + 8 + 2 + 1;
/** Size of a batch buffer; a datagram larger than this (up to 64 KiB) gets a buffer of its own size. */
export const BATCH_BYTES = 256 * 1024;

export class BatchWriter {
  private buffer: ArrayBuffer | undefined;
  private view: DataView | undefined;
  private bytes: Uint8Array | undefined;
  /** Bytes written in the current buffer. */
  used = 0;
  /** Datagrams in the current buffer. */
  count = 0;

  constructor(private readonly take: (size: number) => ArrayBuffer) {}

  /** Whether an entry of this size fits in the current buffer (a new one is started when empty). */
  fits(payloadLength: number, address: string): boolean {
    if (this.buffer === undefined) return true;
    return this.used + HEADER + address.length + payloadLength <= this.buffer.byteLength;
  }

  /** Appends one datagram; the caller checked `fits` (and sent the batch when it did not). */
  add(payload: Uint8Array, address: string, port: number, receivedAt: number): void {
    const need = HEADER + address.length + payload.length;
    if (this.buffer === undefined) {
      this.buffer = this.take(Math.max(BATCH_BYTES, need));
      this.view = new DataView(this.buffer);
      this.bytes = new Uint8Array(this.buffer);
    }
    const view = this.view!;
    const bytes = this.bytes!;
    let at = this.used;
    view.setUint32(at, payload.length);
    view.setFloat64(at + 4, receivedAt);
    view.setUint16(at + 12, port);
    view.setUint8(at + 14, address.length);
    at += HEADER;
    for (let i = 0; i < address.length; i++) bytes[at + i] = address.charCodeAt(i);
    at += address.length;
    bytes.set(payload, at);
    this.used = at + payload.length;
    this.count++;
  }

  /** Ends the current batch: its buffer, bytes used and datagram count; undefined when empty. */
  finish(): { buffer: ArrayBuffer; used: number; count: number } | undefined {
    if (this.buffer === undefined || this.count === 0) return undefined;
    const batch = { buffer: this.buffer, used: this.used, count: this.count };
    this.buffer = undefined;
    this.view = undefined;
    this.bytes = undefined;
    this.used = 0;
    this.count = 0;
    return batch;
  }
}

/**
 * Calls `f` for each datagram of a batch. The payload is a view into the batch: copy it to keep
 * it past the call. A malformed batch (never made by BatchWriter) ends the walk.
 */
export function readBatch(
  buffer: ArrayBuffer,
  used: number,
  f: (payload: Uint8Array, address: string, port: number, receivedAt: number) => void,
): void {
  const view = new DataView(buffer, 0, Math.min(used, buffer.byteLength));
  const bytes = new Uint8Array(buffer, 0, view.byteLength);
  let at = 0;
  while (at + HEADER <= view.byteLength) {
    const length = view.getUint32(at);
    const receivedAt = view.getFloat64(at + 4);
    const port = view.getUint16(at + 12);
    const addressLength = view.getUint8(at + 14);
    at += HEADER;
    if (at + addressLength + length > view.byteLength) return;
    const address = addressAt(bytes, at, addressLength);
    at += addressLength;
    f(bytes.subarray(at, at + length), address, port, receivedAt);
    at += length;
  }
}

/**
 * The last address text read, and its bytes: a batch mostly holds the same few exporters, so the
 * text is made (a character at a time) only when the address changes, and the decoder's lookups
 * by address meet a string whose hash is already known. Made per datagram, readBatch was 1.9-2.0 %
 * of the decode worker in `flowcast serve` (bench:ingest --profile at 40,000 and 50,000 datagrams
 * a second), and below 1.1 % with this. Reading a batch of 32 datagrams from one exporter and
 * looking each address up in a Map: 189 ns a datagram before, 90 after (medians of 8 interleaved
 * runs, CPU time): about 0.4 % of a datagram's decoding; bench/pipeline.bench.ts `worker` cannot
 * resolve that (x0.70 to x1.04 over 3 pairs at load 5-6).
 */
let lastAddress = '';
const lastAddressBytes = new Uint8Array(255);

function addressAt(bytes: Uint8Array, at: number, length: number): string {
  if (length === lastAddress.length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (bytes[at + i] !== lastAddressBytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastAddress;
  }
  let address = '';
  for (let i = 0; i < length; i++) address += String.fromCharCode(bytes[at + i]!);
  lastAddressBytes.set(bytes.subarray(at, at + length));
  lastAddress = address;
  return address;
}
