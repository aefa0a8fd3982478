// A vrrp_script's state from its exit codes: `rise` successes in a row bring it up,
// `fall` failures in a row bring it down. It starts up, and its first result alone
// decides (as keepalived's initial state does), unless `init_fail` starts it down,
// when it needs `rise` successes like any failed script.

export class ScriptResult {
  private isUp: boolean;
  private provisional: boolean;
  private streak = 0;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
    initFail: boolean,
  ) {
    this.isUp = !initFail;
    this.provisional = !initFail;
  }

  get up(): boolean {
    return this.isUp;
  }

  /** Records one run; true when the state changed. */
  record(success: boolean): boolean {
    const was = this.isUp;
    if (this.provisional) {
      this.provisional = false;
      this.isUp = success;
      this.streak = 0;
      return was !== this.isUp;
    }
    if (success === this.isUp) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak >= (this.isUp ? this.fall : this.rise)) {
      this.isUp = success;
      this.streak = 0;
    }
    return was !== this.isUp;
  }
}
