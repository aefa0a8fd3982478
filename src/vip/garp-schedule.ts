// When a new master announces its VIPs, as keepalived does: a burst of
// garp_master_repeat gratuitous ARPs at once, a second burst garp_master_delay later
// (for switches that were still learning), and, with garp_master_refresh, a burst of
// garp_master_refresh_repeat every refresh interval while it holds them.
import type { Clock, TimerHandle } from '../common/clock';
import type { GarpSettings } from '../vrrp/config';

export class GarpSchedule {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly settings: GarpSettings,
    /** Sends `count` gratuitous ARPs for every address. */
    private readonly burst: (count: number) => void,
  ) {}

  start(): void {
    this.stop();
    this.burst(this.settings.masterRepeat);
    if (this.settings.masterDelayMs > 0) {
      this.timer = this.clock.setTimeout(() => {
        this.burst(this.settings.masterRepeat);
        this.scheduleRefresh();
      }, this.settings.masterDelayMs);
    } else {
      this.scheduleRefresh();
    }
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleRefresh(): void {
    const every = this.settings.masterRefreshMs;
    if (every <= 0) {
      this.timer = undefined;
      return;
    }
    this.timer = this.clock.setTimeout(() => {
      this.burst(this.settings.masterRefreshRepeat);
      this.scheduleRefresh();
    }, every);
  }
}
