// Per-service and per-destination counters, as `ipvsadm -L --stats` shows them.
export class Counters {
  conns = 0;
  inPkts = 0;
  outPkts = 0;
  inBytes = 0;
  outBytes = 0;

  zero(): void {
    this.conns = 0;
    this.inPkts = 0;
    this.outPkts = 0;
    this.inBytes = 0;
    this.outBytes = 0;
  }
}
