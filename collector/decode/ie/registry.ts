/**
 * The information-element lookup the decoders use.
 *
 * It knows IANA's elements (PEN 0), their RFC 5103 reverse elements (PEN 29305), a small built-in ntop
 * table (PEN 35632) and enterprise elements from the configuration, and resolves (enterprise number,
 * element id) in constant time. NetFlow v9 field types 1-127 are IANA ids (RFC 3954, RFC 7012 section 4),
 * so v9 decoders look them up under PEN 0 as well.
 */

import { IANA_ELEMENTS, REVERSIBLE_IDS } from './iana.js';
import { type ElementInfo, type EnterpriseElement, isAbstractType, reverseElementName } from './types.js';

export const IANA_PEN = 0;
export const REVERSE_PEN = 29305;
export const NTOP_PEN = 35632;

const MAX_PEN = 0xffff_ffff;
const MAX_ID = 0xffff;

/**
 * The ntop (nProbe) elements Telegraf names, under the IPFIX ids nProbe exports with PEN 35632; nProbe's
 * NetFlow v9 field type for each is 57472 + id. These are the entries of Telegraf's netflow_mapping.csv
 * and those of its ntop-35632.csv that appear in the shared ntop capture (ipfix_pen_35632).
 *
 * Names are Telegraf's snake_case names in camelCase, so that record fields read alike whether IANA or
 * ntop defined them. Telegraf types the numbers only as "uint"; unsigned64 admits every width an exporter
 * may send (reduced-size encoding, RFC 7011 section 6.2).
 */
export const NTOP_ELEMENTS: readonly EnterpriseElement[] = [
  { pen: NTOP_PEN, id: 80, name: 'srcFragments', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 81, name: 'dstFragments', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 109, name: 'retransmittedInPkts', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 110, name: 'retransmittedOutPkts', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 118, name: 'l7Proto', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 123, name: 'clientNwLatencyMs', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 124, name: 'serverNwLatencyMs', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 125, name: 'appLatencyMs', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 127, name: 'retransmittedInBytes', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 128, name: 'retransmittedOutBytes', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 188, name: 'sslServerName', type: 'string' },
  { pen: NTOP_PEN, id: 489, name: 'ja3cHash', type: 'string' },
  { pen: NTOP_PEN, id: 490, name: 'ja3sHash', type: 'string' },
  { pen: NTOP_PEN, id: 493, name: 'sslCipher', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 494, name: 'sslUnsafeCipher', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 495, name: 'sslVersion', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 1028, name: 'protocolNtop', type: 'string' },
  { pen: NTOP_PEN, id: 1031, name: 'l4SrcPortName', type: 'string' },
  { pen: NTOP_PEN, id: 1035, name: 'l4DstPortName', type: 'string' },
  { pen: NTOP_PEN, id: 1036, name: 'l4SrvPort', type: 'unsigned64' },
  { pen: NTOP_PEN, id: 1037, name: 'l4SrvPortName', type: 'string' },
];

export class ElementRegistry {
  /** Keyed by `pen * 65536 + id`, which is unique and a safe integer for 32-bit PENs and 16-bit ids. */
  readonly #elements = new Map<number, ElementInfo>();

  /**
   * `enterprise` elements (typically from the configuration) are added after the built-in ones and so
   * override them. PEN 0 with an id above 127 names a NetFlow v9 vendor field type, which carries no PEN.
   *
   * @throws RangeError if an enterprise element has an out-of-range PEN or id, an empty name or an
   *   unknown type.
   */
  constructor(enterprise: readonly EnterpriseElement[] = []) {
    const reversible = new Set(REVERSIBLE_IDS);
    for (const { id, name, type } of IANA_ELEMENTS) {
      this.#set(IANA_PEN, id, { name, type });
      if (reversible.has(id)) this.#set(REVERSE_PEN, id, { name: reverseElementName(name), type });
    }
    for (const element of [...NTOP_ELEMENTS, ...enterprise]) {
      checkEnterpriseElement(element);
      this.#set(element.pen, element.id, { name: element.name, type: element.type });
    }
  }

  /** The element's name and abstract type, or undefined if this registry does not know it. */
  lookup(enterpriseNumber: number, id: number): ElementInfo | undefined {
    return this.#elements.get(key(enterpriseNumber, id));
  }

  /**
   * The element's name; for an element it does not know, `unknown:<id>` under PEN 0 (also NetFlow v9
   * field types) and `enterprise:<PEN>:<id>` under any other PEN.
   */
  nameOf(enterpriseNumber: number, id: number): string {
    const known = this.lookup(enterpriseNumber, id);
    if (known) return known.name;
    return enterpriseNumber === IANA_PEN ? `unknown:${id}` : `enterprise:${enterpriseNumber}:${id}`;
  }

  #set(pen: number, id: number, info: ElementInfo): void {
    this.#elements.set(key(pen, id), info);
  }
}

function key(pen: number, id: number): number {
  return pen * 0x10000 + id;
}

function checkEnterpriseElement({ pen, id, name, type }: EnterpriseElement): void {
  const what = `enterprise element ${JSON.stringify(name)} (${pen}/${id})`;
  if (!Number.isInteger(pen) || pen < 0 || pen > MAX_PEN) throw new RangeError(`${what}: PEN out of range`);
  if (!Number.isInteger(id) || id < 0 || id > MAX_ID) throw new RangeError(`${what}: id out of range`);
  if (name === '') throw new RangeError(`${what}: empty name`);
  if (!isAbstractType(type)) throw new RangeError(`${what}: unknown type ${JSON.stringify(type)}`);
}
