// Types of ./slapd.js (plain JS, shared by the tests and the benchmark).
export const SUFFIX: string;
export const PEOPLE_DN: string;
export const ROOT_DN: string;
export const ROOT_PASSWORD: string;
export const SERVICE_DN: string;
export const SERVICE_PASSWORD: string;

export interface Person {
  uid: string;
  password: string;
  mail: string | null;
}

export const DEFAULT_PEOPLE: Person[];

export interface Slapd {
  dir: string;
  host: string;
  /** ldap:// (plain and StartTLS). */
  port: number;
  /** ldaps://. */
  ldapsPort: number;
  caCertFile: string;
  url: string;
  readonly pid: number | null;
  start(): Promise<void>;
  stop(): Promise<void>;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export function startSlapd(options?: { people?: Person[] }): Promise<Slapd>;
