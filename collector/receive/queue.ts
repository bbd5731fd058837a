/**
 * The bounded receive queue between the UDP sockets and the decoder: a ring buffer of fixed
 * capacity in datagrams and in bytes (65,536 slots of 64 KiB datagrams would otherwise be 4 GiB).
 * When either is full the new datagram is dropped and counted; the socket never waits.
 */

export interface ReceivedDatagram {
  readonly payload: Uint8Array;
  readonly address: string;
  readonly port: number;
  /** Unix milliseconds at receipt. */
  readonly receivedAt: number;
}

export class ReceiveQueue {
  dropped = 0;
  enqueued = 0;
  private readonly slots: (ReceivedDatagram | undefined)[];
  private head = 0;
  private size = 0;
  /** Payload bytes waiting. */
  bytes = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    this.slots = new Array(capacity).fill(undefined);
  }

  get length(): number {
    return this.size;
  }

  /** Returns false (and counts the drop) when full. */
  push(d: ReceivedDatagram): boolean {
    if (this.size === this.capacity || this.bytes + d.payload.length > this.maxBytes) {
      this.dropped++;
      return false;
    }
    this.slots[(this.head + this.size) % this.capacity] = d;
    this.size++;
    this.bytes += d.payload.length;
    this.enqueued++;
    return true;
  }

  shift(): ReceivedDatagram | undefined {
    if (this.size === 0) return undefined;
    const d = this.slots[this.head];
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.size--;
    if (d !== undefined) this.bytes -= d.payload.length;
    return d;
  }
}
