// Codes of what a running director logs that an operator may act on (the `code` field of
// a log line). docs/errors.md explains each one, after the configuration's codes;
// test/config/docs.test.ts keeps the lists equal.

export const runtimeErrorCodes = [
  'HAD_INVARIANT',
  'HAD_BUG',
  'HAD_STANDING_DOWN',
  'HAD_LINK_DOWN',
  'HAD_FENCE_LEVEL_FAILED',
  'HAD_FENCE_FAILED',
  'HAD_FENCE_NO_DEVICE',
  'HAD_VIP',
  'HAD_PLANE_REFUSED',
  'HAD_KERNEL_PLANE',
  'HAD_IPVS_PLANE',
  'HAD_DATAPLANE',
] as const;

export type RuntimeErrorCode = (typeof runtimeErrorCodes)[number];
