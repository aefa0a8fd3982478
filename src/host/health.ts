// Host health: pacemaker's node health for one director. Each sample of the host (see
// facts.ts) gives every fact with a rule a colour (colour.ts: thresholds with
// hysteresis); the host's colour is the worst of them; the strategy turns colours into
// what the node's VRRP instances must do:
//   none            shown only; nothing moves.
//   migrate_on_red  red ⇒ FAULT (the instances hand over with priority 0).
//   only_green      yellow or red ⇒ FAULT.
//   progressive     each yellow or red fact with a weight takes it off the priority, as a
//                   tracker does; a red fact without one means FAULT.
// Then the hold time: a FAULT, or a penalty, lifts only once the host has stayed better
// for `holdMs` (worst-window.ts), so a host that recovers does not take its VIPs back
// until it has proved it. Pure: samples and timer expiries in, changes and the hold
// deadline out.
//
// Invariants: at most one hold timer is armed, exactly when a held FAULT or penalty is
// waiting to lift; a fact's `sinceMs` is when its colour last changed.
import type { Clock } from '../common/clock';
import { judgeColour, worseColour } from './colour';
import type { FactRule, HostColour, HostHealthConfig } from './config';
import { hostWeightRange } from './config';
import { factValue, hostFactNames, hysteresisScale, type HostFactName, type HostFacts } from './facts';
import { WorstWindow } from './worst-window';

export type HostHealthTimer = 'hold';

export type HostHealthEvent =
  | { readonly kind: 'sampled'; readonly facts: HostFacts }
  /** A reload: new thresholds, strategy or hold, judged at once on the last sample. */
  | { readonly kind: 'configured'; readonly config: HostHealthConfig }
  | { readonly kind: 'timerFired'; readonly timer: HostHealthTimer };

export interface FactState {
  readonly fact: HostFactName;
  readonly colour: HostColour;
  /** When the fact took this colour (clock ms). */
  readonly sinceMs: number;
  /** Undefined until read, or when the last sample could not read it (the colour stays). */
  readonly value?: number;
  readonly detail?: string;
}

export interface HostDecision {
  /** The node's VRRP instances must be in FAULT. */
  readonly fault: boolean;
  /** Added to every instance's priority, as a tracker's weight is; 0 or negative. */
  readonly priorityDelta: number;
  readonly colour: HostColour;
  readonly colourSinceMs: number;
  /** While a FAULT or penalty outlasts its cause: when it lifts if the host stays as it is. */
  readonly heldUntilMs?: number;
  /** Why there is a FAULT or a penalty, one phrase per cause; empty when there is none. */
  readonly reasons: readonly string[];
  readonly facts: readonly FactState[];
}

export type HostHealthAction =
  | { readonly kind: 'factColourChanged'; readonly fact: HostFactName; readonly from: HostColour; readonly to: HostColour; readonly value?: number; readonly detail?: string }
  | { readonly kind: 'colourChanged'; readonly from: HostColour; readonly to: HostColour }
  | { readonly kind: 'decisionChanged'; readonly decision: HostDecision }
  | { readonly kind: 'setTimer'; readonly timer: HostHealthTimer; readonly atMs: number }
  | { readonly kind: 'cancelTimer'; readonly timer: HostHealthTimer };

/** The largest penalty there can be: every fact at the highest weight. */
const penaltyMax = hostFactNames.length * hostWeightRange.max;

export class HostHealth {
  private config: HostHealthConfig;
  private facts = new Map<HostFactName, FactState>();
  private colour: HostColour = 'green';
  private colourSinceMs: number;
  private last: HostFacts | undefined;
  private readonly faultWindow: WorstWindow;
  private readonly penaltyWindow: WorstWindow;
  private current: { fault: boolean; penalty: number; reasons: string[] } = { fault: false, penalty: 0, reasons: [] };
  private holdTimerAtMs: number | undefined;
  /** What the last decisionChanged said (the director acts on it). */
  private reported = { fault: false, priorityDelta: 0 };

  constructor(
    config: HostHealthConfig,
    private readonly clock: Clock,
  ) {
    this.config = config;
    this.colourSinceMs = clock.nowMs();
    this.faultWindow = new WorstWindow(config.holdMs, 0, 2);
    // Penalties are whole numbers from 0 to penaltyMax, and the window holds each at most once.
    this.penaltyWindow = new WorstWindow(config.holdMs, 0, penaltyMax + 1);
    this.adoptRules();
  }

  step(event: HostHealthEvent): HostHealthAction[] {
    switch (event.kind) {
      case 'sampled':
        this.last = event.facts;
        return this.judge();
      case 'configured':
        return this.reconfigure(event.config);
      case 'timerFired':
        this.holdTimerAtMs = undefined;
        return this.decide([]);
    }
  }

  decision(): HostDecision {
    const nowMs = this.clock.nowMs();
    const fault = this.faultWindow.worst(nowMs) > 0;
    const penalty = this.penaltyWindow.worst(nowMs);
    const held = (fault && !this.current.fault) || penalty > this.current.penalty;
    const heldUntilMs = held ? this.liftAtMs() : undefined;
    const reasons = [...this.current.reasons];
    if (held && heldUntilMs !== undefined) reasons.push(`held until ${heldUntilMs}ms (hold ${this.config.holdMs}ms)`);
    return {
      fault,
      // `0 - 0` would be -0, which prints and compares oddly.
      priorityDelta: penalty === 0 ? 0 : -penalty,
      colour: this.colour,
      colourSinceMs: this.colourSinceMs,
      ...(heldUntilMs !== undefined ? { heldUntilMs } : {}),
      reasons,
      facts: [...this.facts.values()],
    };
  }

  /** One stable line: colour, what it does, and each judged fact. */
  describe(): string {
    const d = this.decision();
    const act = `${d.fault ? 'fault' : 'fit'} delta=${d.priorityDelta}${d.heldUntilMs !== undefined ? ` held-until=${d.heldUntilMs}ms` : ''}`;
    const facts = d.facts.map((f) => `${f.fact}=${f.colour}(${f.value === undefined ? '?' : round(f.value)})@${f.sinceMs}`);
    return `host ${d.colour}@${d.colourSinceMs} ${this.config.strategy} ${act}${facts.length > 0 ? ` ${facts.join(' ')}` : ''}`;
  }

  /** Colours each fact on the last sample (if there is one), then the host, then decides. */
  private judge(): HostHealthAction[] {
    const nowMs = this.clock.nowMs();
    const out = this.last === undefined ? [] : this.colourFacts(this.last, nowMs);
    let overall: HostColour = 'green';
    for (const f of this.facts.values()) overall = worseColour(overall, f.colour);
    if (overall !== this.colour) {
      out.push({ kind: 'colourChanged', from: this.colour, to: overall });
      this.colour = overall;
      this.colourSinceMs = nowMs;
    }
    return this.decide(out);
  }

  private colourFacts(facts: HostFacts, nowMs: number): HostHealthAction[] {
    const out: HostHealthAction[] = [];
    for (const [name, state] of this.facts) {
      const rule = this.config.rules[name] as FactRule;
      const { value, detail } = factValue(facts, name);
      const colour = value === undefined ? state.colour : judgeColour(value, rule, state.colour, this.config.hysteresis * hysteresisScale[name]);
      const reading = { ...(value !== undefined ? { value } : {}), ...(detail !== undefined ? { detail } : {}) };
      const changed = colour !== state.colour;
      this.facts.set(name, { fact: name, colour, sinceMs: changed ? nowMs : state.sinceMs, ...reading });
      if (changed) out.push({ kind: 'factColourChanged', fact: name, from: state.colour, to: colour, ...reading });
    }
    return out;
  }

  /** Feeds what the colours ask for now into the hold windows, and reports what changed. */
  private decide(out: HostHealthAction[]): HostHealthAction[] {
    const nowMs = this.clock.nowMs();
    this.current = this.wanted();
    this.faultWindow.set(this.current.fault ? 1 : 0, nowMs);
    this.penaltyWindow.set(this.current.penalty, nowMs);
    const after = this.decision();
    if (after.fault !== this.reported.fault || after.priorityDelta !== this.reported.priorityDelta) {
      out.push({ kind: 'decisionChanged', decision: after });
      this.reported = { fault: after.fault, priorityDelta: after.priorityDelta };
    }
    const liftAtMs = this.liftAtMs();
    if (liftAtMs !== this.holdTimerAtMs) {
      if (liftAtMs === undefined) out.push({ kind: 'cancelTimer', timer: 'hold' });
      else out.push({ kind: 'setTimer', timer: 'hold', atMs: liftAtMs });
      this.holdTimerAtMs = liftAtMs;
    }
    return out;
  }

  /** What the strategy asks for on the colours as they are, before any hold. */
  private wanted(): { fault: boolean; penalty: number; reasons: string[] } {
    const reasons: string[] = [];
    let fault = false;
    let penalty = 0;
    for (const f of this.facts.values()) {
      if (f.colour === 'green') continue;
      const why = `${f.fact} ${f.colour}${f.value === undefined ? '' : ` ${round(f.value)}`}${f.detail === undefined ? '' : ` (${f.detail})`}`;
      const weight = this.config.rules[f.fact]?.weight;
      switch (this.config.strategy) {
        case 'none':
          continue;
        case 'migrate_on_red':
          if (f.colour !== 'red') continue;
          fault = true;
          break;
        case 'only_green':
          fault = true;
          break;
        case 'progressive':
          if (weight !== undefined) penalty += weight;
          else if (f.colour === 'red') fault = true;
          else continue;
          break;
      }
      reasons.push(weight !== undefined && this.config.strategy === 'progressive' ? `${why}: -${weight}` : why);
    }
    return { fault, penalty, reasons };
  }

  /** The earlier of the moments a held FAULT or penalty lifts, if one is held. */
  private liftAtMs(): number | undefined {
    const times = [this.faultWindow.nextChangeMs(), this.penaltyWindow.nextChangeMs()].filter((t): t is number => t !== undefined);
    return times.length === 0 ? undefined : Math.min(...times);
  }

  private reconfigure(config: HostHealthConfig): HostHealthAction[] {
    this.config = config;
    this.faultWindow.setHold(config.holdMs);
    this.penaltyWindow.setHold(config.holdMs);
    // `none` acts on nothing, so nothing it inherits stays held either.
    if (config.strategy === 'none') {
      this.faultWindow.reset(0);
      this.penaltyWindow.reset(0);
    }
    this.adoptRules();
    return this.judge();
  }

  /** Facts that gained a rule start green (until judged); facts that lost theirs are dropped. */
  private adoptRules(): void {
    const nowMs = this.clock.nowMs();
    const facts = new Map<HostFactName, FactState>();
    for (const name of hostFactNames) {
      if (this.config.rules[name] === undefined) continue;
      facts.set(name, this.facts.get(name) ?? { fact: name, colour: 'green', sinceMs: nowMs });
    }
    this.facts = facts;
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
