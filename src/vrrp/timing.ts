// RFC 5798 timing (§6.1): how long a backup waits before it declares the master down.

/** Skew_Time: v2 (RFC 3768) is (256 − priority)/256 s; v3 scales with the interval. */
export function skewTimeMs(version: 2 | 3, advertIntMs: number, priority: number): number {
  return version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * advertIntMs) / 256;
}

/** Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time. */
export function masterDownIntervalMs(version: 2 | 3, advertIntMs: number, priority: number): number {
  return 3 * advertIntMs + skewTimeMs(version, advertIntMs, priority);
}
