/**
 * Information-element (IE) types, and the naming rules, shared by the generated IANA table, its generator
 * and the registry.
 *
 * The abstract data types are those of RFC 7012 section 3.1 plus the structured-data types of RFC 6313.
 */

/** Every abstract data type an element can have, in RFC 7012 / RFC 6313 spelling. */
export const ABSTRACT_TYPES = [
  'unsigned8',
  'unsigned16',
  'unsigned32',
  'unsigned64',
  'signed8',
  'signed16',
  'signed32',
  'signed64',
  'float32',
  'float64',
  'boolean',
  'macAddress',
  'octetArray',
  'string',
  'dateTimeSeconds',
  'dateTimeMilliseconds',
  'dateTimeMicroseconds',
  'dateTimeNanoseconds',
  'ipv4Address',
  'ipv6Address',
  'basicList',
  'subTemplateList',
  'subTemplateMultiList',
] as const;

export type AbstractType = (typeof ABSTRACT_TYPES)[number];

const ABSTRACT_TYPE_SET: ReadonlySet<string> = new Set(ABSTRACT_TYPES);

/** Narrows a string read from a file or config to an {@link AbstractType}. */
export function isAbstractType(value: string): value is AbstractType {
  return ABSTRACT_TYPE_SET.has(value);
}

/** RFC 5103's name for an element's reverse (PEN 29305) counterpart, e.g. `reverseOctetDeltaCount`. */
export function reverseElementName(name: string): string {
  return `reverse${name.charAt(0).toUpperCase()}${name.slice(1)}`;
}

/** One element of IANA's IPFIX registry (Private Enterprise Number 0). */
export interface IanaElement {
  readonly id: number;
  readonly name: string;
  readonly type: AbstractType;
  /** Encoded size in octets of a full-width value; absent for variable-length types. */
  readonly length?: number;
}

/** An enterprise-specific element, built in or from the collector's configuration. */
export interface EnterpriseElement {
  /** Private Enterprise Number of the defining organisation. */
  readonly pen: number;
  readonly id: number;
  readonly name: string;
  readonly type: AbstractType;
}

/** What a lookup tells a decoder about an element. */
export interface ElementInfo {
  readonly name: string;
  readonly type: AbstractType;
}
