/**
 * Bounded names for the `protocol` and `service` tags of `traffic_protocol` (docs/schema.md):
 * a fixed table of IP protocols and of well-known TCP/UDP ports, everything else `other`, so the
 * number of series stays bounded whatever the traffic.
 *
 * Names are resolved to small integer ids through flat lookup tables (a 256-entry protocol table,
 * one 65 536-entry port table per transport), so the rollup's hot path does two array reads.
 */

/** Id of `other` in both `PROTOCOL_NAMES` and `SERVICE_NAMES`. */
const OTHER = 0;

const TCP = 6;
const UDP = 17;

const PROTOCOLS: readonly (readonly [number, string])[] = [
  [1, 'icmp'],
  [2, 'igmp'],
  [4, 'ipip'],
  [6, 'tcp'],
  [17, 'udp'],
  [41, 'ipv6'],
  [47, 'gre'],
  [50, 'esp'],
  [51, 'ah'],
  [58, 'icmpv6'],
  [89, 'ospf'],
  [103, 'pim'],
  [112, 'vrrp'],
  [115, 'l2tp'],
  [132, 'sctp'],
];

/** Well-known ports: [port, name, transports]. Names follow common usage rather than IANA's. */
const SERVICES: readonly (readonly [number, string, 'tcp' | 'udp' | 'both'])[] = [
  [20, 'ftp-data', 'tcp'],
  [21, 'ftp', 'tcp'],
  [22, 'ssh', 'tcp'],
  [23, 'telnet', 'tcp'],
  [25, 'smtp', 'tcp'],
  [49, 'tacacs', 'tcp'],
  [53, 'dns', 'both'],
  [67, 'dhcp', 'udp'],
  [68, 'dhcp', 'udp'],
  [69, 'tftp', 'udp'],
  [80, 'http', 'tcp'],
  [88, 'kerberos', 'both'],
  [110, 'pop3', 'tcp'],
  [111, 'rpcbind', 'both'],
  [119, 'nntp', 'tcp'],
  [123, 'ntp', 'udp'],
  [137, 'netbios', 'udp'],
  [138, 'netbios', 'udp'],
  [139, 'netbios', 'tcp'],
  [143, 'imap', 'tcp'],
  [161, 'snmp', 'udp'],
  [162, 'snmp', 'udp'],
  [179, 'bgp', 'tcp'],
  [389, 'ldap', 'both'],
  [443, 'https', 'tcp'],
  [443, 'quic', 'udp'],
  [445, 'smb', 'tcp'],
  [465, 'smtps', 'tcp'],
  [500, 'ipsec', 'udp'],
  [514, 'syslog', 'udp'],
  [554, 'rtsp', 'both'],
  [587, 'submission', 'tcp'],
  [636, 'ldaps', 'tcp'],
  [853, 'dns-over-tls', 'tcp'],
  [873, 'rsync', 'tcp'],
  [993, 'imaps', 'tcp'],
  [995, 'pop3s', 'tcp'],
  [1194, 'openvpn', 'both'],
  [1433, 'mssql', 'tcp'],
  [1521, 'oracle', 'tcp'],
  [1812, 'radius', 'udp'],
  [1813, 'radius', 'udp'],
  [1883, 'mqtt', 'tcp'],
  [1900, 'ssdp', 'udp'],
  [2049, 'nfs', 'both'],
  [2055, 'netflow', 'udp'],
  [3128, 'http-proxy', 'tcp'],
  [3306, 'mysql', 'tcp'],
  [3389, 'rdp', 'both'],
  [3478, 'stun', 'both'],
  [4500, 'ipsec', 'udp'],
  [4739, 'ipfix', 'udp'],
  [5060, 'sip', 'both'],
  [5061, 'sips', 'tcp'],
  [5353, 'mdns', 'udp'],
  [5432, 'postgresql', 'tcp'],
  [5900, 'vnc', 'tcp'],
  [6343, 'sflow', 'udp'],
  [6379, 'redis', 'tcp'],
  [8080, 'http-alt', 'tcp'],
  [8443, 'https-alt', 'tcp'],
  [8883, 'mqtts', 'tcp'],
  [9092, 'kafka', 'tcp'],
  [9200, 'elasticsearch', 'tcp'],
  [11211, 'memcached', 'both'],
  [27017, 'mongodb', 'tcp'],
  [51820, 'wireguard', 'udp'],
];

/** Protocol tag values by id; id 0 is `other`. */
export const PROTOCOL_NAMES: readonly string[] = ['other', ...PROTOCOLS.map(([, name]) => name)];

/** Service tag values by id; id 0 is `other`. */
export const SERVICE_NAMES: readonly string[] = ['other', ...new Set(SERVICES.map(([, name]) => name))];

const protocolIds = new Uint8Array(256);
PROTOCOLS.forEach(([number], i) => {
  protocolIds[number] = i + 1;
});

const tcpPorts = new Uint8Array(65536);
const udpPorts = new Uint8Array(65536);
for (const [port, name, transport] of SERVICES) {
  const id = SERVICE_NAMES.indexOf(name);
  if (transport !== 'udp') tcpPorts[port] = id;
  if (transport !== 'tcp') udpPorts[port] = id;
}

/** The id of an IP protocol number in `PROTOCOL_NAMES` (`OTHER` when not in the table or unknown). */
export function protocolId(protocol: number | undefined): number {
  return protocol === undefined ? OTHER : (protocolIds[protocol & 0xff] ?? OTHER);
}

/**
 * The id of a flow's service in `SERVICE_NAMES`: for TCP and UDP, the lower of the two ports that is
 * in the table (so a client's ephemeral port never wins over the server's well-known one); `OTHER`
 * for other protocols and unlisted ports.
 */
export function serviceId(
  protocol: number | undefined,
  srcPort: number | undefined,
  dstPort: number | undefined,
): number {
  const table = protocol === TCP ? tcpPorts : protocol === UDP ? udpPorts : undefined;
  if (table === undefined) return OTHER;
  const a = (srcPort ?? 0) & 0xffff;
  const b = (dstPort ?? 0) & 0xffff;
  const low = table[Math.min(a, b)] ?? OTHER;
  return low !== OTHER ? low : (table[Math.max(a, b)] ?? OTHER);
}
