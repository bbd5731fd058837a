/**
 * Interface capacity, in bits per second, in this order: the configuration (an exporter and
 * ifIndex, or a pattern on the interface name), else the speed the interface name states, else
 * unknown. A capacity is never guessed silently: each answer says where it came from, and an
 * unknown one says why, so that a capacity row without utilisation figures explains itself.
 *
 * Names that state their speed (Cisco IOS/IOS-XR/NX-OS, Juniper Junos, Arista EOS):
 *   FastEthernet/Fa 100 Mb/s; GigabitEthernet/Gi 1 Gb/s; TwoGigabitEthernet/Tw 2.5 Gb/s;
 *   FiveGigabitEthernet/Fi 5 Gb/s; TenGigabitEthernet/TenGigE/Te 10 Gb/s;
 *   TwentyFiveGigE/TwentyFiveGigabitEthernet/Twe 25 Gb/s; FortyGigabitEthernet/FortyGigE/Fo 40 Gb/s;
 *   FiftyGigE 50 Gb/s; HundredGigE/HundredGigabitEthernet/Hu 100 Gb/s;
 *   FourHundredGigE/FH 400 Gb/s; Junos fe- 100 Mb/s, ge- 1 Gb/s, xe- 10 Gb/s, et- 40 Gb/s (et- ports
 *   run at 40, 100 or 400 Gb/s: configure the others), Arista/Linux names (Ethernet1, eth0) state
 *   no speed and stay unknown.
 */

export interface CapacityRule {
  readonly exporter?: string;
  readonly ifIndex?: number;
  /** A regular expression matched against the interface name (case-insensitive). */
  readonly ifName?: string;
  readonly bps: number;
}

export interface Capacity {
  /** Bits per second, or undefined when unknown. */
  readonly bps: number | undefined;
  /** `config`, `name` or `unknown`, and the reason in words. */
  readonly source: 'config' | 'name' | 'unknown';
  readonly note: string;
}

const G = 1e9;
const NAME_SPEEDS: ReadonlyArray<readonly [RegExp, number, string]> = [
  [/^(fourhundredgige|fh)\d/i, 400 * G, '400G'],
  [/^(hundredgig(e|abitethernet)|hu)\d/i, 100 * G, '100G'],
  [/^fiftygig(e|abitethernet)\d/i, 50 * G, '50G'],
  [/^(fortygig(e|abitethernet)|fo)\d/i, 40 * G, '40G'],
  [/^(twentyfivegig(e|abitethernet)|twe)\d/i, 25 * G, '25G'],
  [/^(tengig(e|abitethernet)|te)\d/i, 10 * G, '10G'],
  [/^(fivegigabitethernet|fi)\d/i, 5 * G, '5G'],
  [/^(twogigabitethernet|tw)\d/i, 2.5 * G, '2.5G'],
  [/^(gigabitethernet|gi)\d/i, 1 * G, '1G'],
  [/^(fastethernet|fa)\d/i, 0.1 * G, '100M'],
  [/^et-\d/i, 40 * G, 'Junos et- (40G assumed; configure 100G/400G ports)'],
  [/^xe-\d/i, 10 * G, 'Junos xe-'],
  [/^ge-\d/i, 1 * G, 'Junos ge-'],
  [/^fe-\d/i, 0.1 * G, 'Junos fe-'],
];

/** The speed an interface name states, if it states one. */
export function speedFromName(ifName: string): { bps: number; rule: string } | undefined {
  const name = ifName.trim();
  for (const [re, bps, rule] of NAME_SPEEDS) if (re.test(name)) return { bps, rule };
  return undefined;
}

/** Compiles configured rules once; a bad pattern is a configuration error naming its index. */
export function capacityResolver(
  rules: readonly CapacityRule[],
): (exporter: string, ifIndex: number, ifName: string) => Capacity {
  const compiled = rules.map((r, i) => {
    let re: RegExp | undefined;
    if (r.ifName !== undefined) {
      try {
        re = new RegExp(r.ifName, 'i');
      } catch (err) {
        throw new Error(
          `analytics.capacity[${i}].ifName: not a regular expression: ${(err as Error).message}`,
        );
      }
    }
    return { ...r, re, index: i };
  });
  return (exporter, ifIndex, ifName) => {
    for (const r of compiled) {
      if (r.exporter !== undefined && r.exporter !== exporter) continue;
      if (r.ifIndex !== undefined && r.ifIndex !== ifIndex) continue;
      if (r.re !== undefined && !r.re.test(ifName)) continue;
      return { bps: r.bps, source: 'config', note: `configured (analytics.capacity[${r.index}])` };
    }
    const named = speedFromName(ifName);
    if (named !== undefined)
      return { bps: named.bps, source: 'name', note: `from the interface name ${ifName} (${named.rule})` };
    return {
      bps: undefined,
      source: 'unknown',
      note:
        ifName === ''
          ? 'capacity unknown: no interface name seen and none configured (set analytics.capacity)'
          : `capacity unknown: the name ${ifName} states no speed and none is configured (set analytics.capacity)`,
    };
  };
}
