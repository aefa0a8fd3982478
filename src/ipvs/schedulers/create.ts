// One scheduler instance per service, by ipvsadm name.
import type { Clock } from '../../common/clock';
import type { Rng } from '../../common/rng';
import { DestinationHashScheduler, SourceHashScheduler } from './hashing';
import {
  LeastConnectionScheduler,
  NeverQueueScheduler,
  ShortestExpectedDelayScheduler,
  WeightedLeastConnectionScheduler,
} from './least-connection';
import { LocalityLeastConnectionScheduler, LocalityReplicationScheduler } from './locality';
import { MaglevScheduler } from './maglev';
import { RoundRobinScheduler } from './rr';
import type { ScheduledService, Scheduler, SchedulerName } from './scheduler';
import { PowerOfTwoScheduler, WeightedFailoverScheduler, WeightedOverflowScheduler } from './weighted-choice';
import { WeightedRoundRobinScheduler } from './wrr';

export interface SchedulerDeps {
  readonly clock: Clock;
  readonly rng: Rng;
}

export function createScheduler(name: SchedulerName, svc: ScheduledService, deps: SchedulerDeps): Scheduler {
  switch (name) {
    case 'rr':
      return new RoundRobinScheduler();
    case 'wrr':
      return new WeightedRoundRobinScheduler(svc);
    case 'lc':
      return new LeastConnectionScheduler();
    case 'wlc':
      return new WeightedLeastConnectionScheduler();
    case 'sed':
      return new ShortestExpectedDelayScheduler();
    case 'nq':
      return new NeverQueueScheduler();
    case 'fo':
      return new WeightedFailoverScheduler();
    case 'ovf':
      return new WeightedOverflowScheduler();
    case 'twos':
      return new PowerOfTwoScheduler(deps.rng);
    case 'sh':
      return new SourceHashScheduler(svc);
    case 'dh':
      return new DestinationHashScheduler(svc);
    case 'mh':
      return new MaglevScheduler(svc);
    case 'lblc':
      return new LocalityLeastConnectionScheduler(deps.clock);
    case 'lblcr':
      return new LocalityReplicationScheduler(deps.clock);
  }
}
