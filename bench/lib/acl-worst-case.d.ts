// Types of ./acl-worst-case.js (plain JS, shared by the tests and the benchmark).
export interface AclLimits {
  entries: number;
  length: number;
  wildcards: number;
}

export const LIMITS: Readonly<AclLimits>;

export interface AclCase {
  name: string;
  description: string;
  acl: string[];
  scope: string;
  granted: boolean;
}

export function wildcards(access: string): number;
export function worstCases(limits?: AclLimits): AclCase[];
export function typicalCase(): AclCase;
export function measure(
  compiled: { matches(scope: string): boolean },
  scope: string,
  options?: { runs?: number; warmup?: number },
): { cpuMs: number; wallMs: number; result: boolean };
