// The kernel's rate estimator (ip_vs_est.c): every 2 seconds each counter's increase
// becomes a rate scaled by 2^10 (packets, connections) or 2^5 (bytes), smoothed as
// avg += (rate − avg) / 4, and read back rounded. `ipvsadm -L --rate` prints the result.
import type { Counters, Rates } from './stats';

export const estimatorIntervalMs = 2000;

export interface EstimatorState {
  last: { conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number };
  /** Scaled averages: ×2^10 for cps and pps, ×2^5 for bps. */
  avg: { cps: number; inPps: number; outPps: number; inBps: number; outBps: number };
}

export function newEstimatorState(c: Counters): EstimatorState {
  return {
    last: { conns: c.conns, inPkts: c.inPkts, outPkts: c.outPkts, inBytes: c.inBytes, outBytes: c.outBytes },
    avg: { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 },
  };
}

/** avg += (rate − avg) >> 2, with the kernel's arithmetic (flooring) shift. */
function smooth(avg: number, rate: number): number {
  return avg + Math.floor((rate - avg) / 4);
}

/** One 2-second step; then the readable rates are refreshed. */
export function estimate(c: Counters, s: EstimatorState): void {
  s.avg.cps = smooth(s.avg.cps, (c.conns - s.last.conns) * 512);
  s.avg.inPps = smooth(s.avg.inPps, (c.inPkts - s.last.inPkts) * 512);
  s.avg.outPps = smooth(s.avg.outPps, (c.outPkts - s.last.outPkts) * 512);
  s.avg.inBps = smooth(s.avg.inBps, (c.inBytes - s.last.inBytes) * 16);
  s.avg.outBps = smooth(s.avg.outBps, (c.outBytes - s.last.outBytes) * 16);
  s.last = { conns: c.conns, inPkts: c.inPkts, outPkts: c.outPkts, inBytes: c.inBytes, outBytes: c.outBytes };
  readRates(s, c.rate);
}

export function readRates(s: EstimatorState, out: Rates): void {
  out.cps = Math.floor((s.avg.cps + 0x1ff) / 1024);
  out.inPps = Math.floor((s.avg.inPps + 0x1ff) / 1024);
  out.outPps = Math.floor((s.avg.outPps + 0x1ff) / 1024);
  out.inBps = Math.floor((s.avg.inBps + 0xf) / 32);
  out.outBps = Math.floor((s.avg.outBps + 0xf) / 32);
}
