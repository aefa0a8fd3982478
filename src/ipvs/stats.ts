// Per-service and per-destination counters, as `ipvsadm -L --stats` shows them, and the
// smoothed rates that `--rate` shows (filled in by the rate estimator).
import { newEstimatorState, readRates, type EstimatorState } from './estimator';

export interface Rates {
  /** Connections per second. */
  cps: number;
  inPps: number;
  outPps: number;
  /** Bytes per second. */
  inBps: number;
  outBps: number;
}

export class Counters {
  conns = 0;
  inPkts = 0;
  outPkts = 0;
  inBytes = 0;
  outBytes = 0;
  readonly rate: Rates = { cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
  estimator: EstimatorState = newEstimatorState(this);

  /** ipvsadm -Z: counters and rates start again from zero. */
  zero(): void {
    this.conns = 0;
    this.inPkts = 0;
    this.outPkts = 0;
    this.inBytes = 0;
    this.outBytes = 0;
    this.estimator = newEstimatorState(this);
    readRates(this.estimator, this.rate);
  }
}
