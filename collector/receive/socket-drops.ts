/**
 * Datagrams the kernel dropped at a process's own UDP sockets (receive buffer full, or refused by
 * a filter): the `drops` column of /proc/net/udp and /proc/net/udp6. These never reach flowcast's
 * receive queue, so no counter of ours can see them; without this a flood shows up only as missing
 * records.
 *
 * A socket is the process's when its inode appears as a `socket:[inode]` link in /proc/<pid>/fd;
 * `ports` narrows that to the sockets bound to those local ports. Cost of one call: one readdir
 * and one readlink per open descriptor, and one read of each table (a few hundred bytes per UDP
 * socket on the host): well under a millisecond for a few hundred descriptors and sockets, cheap
 * enough for every /metrics scrape. It never throws: where /proc is absent or unreadable the
 * answer is undefined.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** One UDP socket of the process, as the kernel reports it. */
export interface UdpSocketDrops {
  readonly inode: number;
  readonly family: 4 | 6;
  readonly localPort: number;
  /** Bytes waiting in the receive queue. */
  readonly receiveQueue: number;
  /** Datagrams dropped since the socket was created. */
  readonly drops: number;
}

export interface SocketDropsOptions {
  /** The process whose sockets are read; default this one. */
  readonly pid?: number;
  /** Only sockets bound to these local ports; default every UDP socket of the process. */
  readonly ports?: readonly number[];
  /** Where proc is mounted (tests); default /proc. */
  readonly procRoot?: string;
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

/** The process's UDP sockets and their drop counters, or undefined when /proc cannot be read. */
export function udpSocketDrops(options: SocketDropsOptions = {}): UdpSocketDrops[] | undefined {
  const proc = options.procRoot ?? '/proc';
  const pid = options.pid === undefined ? 'self' : String(options.pid);
  const inodes = new Set<number>();
  try {
    const fdDir = join(proc, pid, 'fd');
    for (const fd of readdirSync(fdDir)) {
      let link: string;
      try {
        link = readlinkSync(join(fdDir, fd));
      } catch {
        continue; // closed between readdir and readlink
      }
      const m = SOCKET_LINK.exec(link);
      if (m !== null) inodes.add(Number(m[1]));
    }
  } catch {
    return undefined;
  }
  const ports = options.ports === undefined ? undefined : new Set(options.ports);
  const out: UdpSocketDrops[] = [];
  let tables = 0;
  for (const [file, family] of [
    ['udp', 4],
    ['udp6', 6],
  ] as const) {
    let text: string;
    try {
      // The network namespace of that process (the same as ours unless it was moved).
      text = readFileSync(join(proc, pid, 'net', file), 'latin1');
    } catch {
      continue; // no IPv6, say
    }
    tables++;
    parseTable(text, family, inodes, ports, out);
  }
  return tables === 0 ? undefined : out;
}

/**
 * The total of the drop counters of the process's UDP sockets (those on `ports` when given), or
 * undefined when /proc cannot be read. Never throws.
 */
export function socketDrops(options: SocketDropsOptions = {}): number | undefined {
  try {
    const sockets = udpSocketDrops(options);
    if (sockets === undefined) return undefined;
    let total = 0;
    for (const s of sockets) total += s.drops;
    return total;
  } catch {
    return undefined;
  }
}

/**
 * Lines of /proc/net/udp{,6} (net/ipv4/udp.c udp4_format_sock, net/ipv6/datagram.c):
 * `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref
 * pointer drops`, addresses as HEX_ADDRESS:HEX_PORT.
 */
function parseTable(
  text: string,
  family: 4 | 6,
  inodes: ReadonlySet<number>,
  ports: ReadonlySet<number> | undefined,
  out: UdpSocketDrops[],
): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const cols = lines[i]!.trim().split(/\s+/);
    if (cols.length < 13) continue;
    const inode = Number(cols[9]);
    if (!inodes.has(inode)) continue;
    const local = cols[1]!;
    const localPort = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    if (ports !== undefined && !ports.has(localPort)) continue;
    const queues = cols[4]!;
    const receiveQueue = Number.parseInt(queues.slice(queues.indexOf(':') + 1), 16);
    const drops = Number(cols[12]);
    if (!Number.isFinite(drops) || !Number.isFinite(localPort)) continue;
    out.push({
      inode,
      family,
      localPort,
      receiveQueue: Number.isFinite(receiveQueue) ? receiveQueue : 0,
      drops,
    });
  }
}
