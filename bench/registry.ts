import { clusterLoadBench } from './cluster-load';
import { configParse } from './config-parse';
import { dataplaneBench } from './dataplane';
import { failoverBench } from './failover';
import { hostSampleBench } from './host-sample';
import { ipvsBench } from './ipvs';
import { kernelPollBench } from './kernel-poll';
import { syncBench } from './sync';

export interface BenchOptions {
  /** The small size that `npm test` runs, to keep every benchmark working. */
  readonly smoke: boolean;
  /** What follows the benchmark's name on the command line. */
  readonly args?: readonly string[];
}

export interface Benchmark {
  readonly name: string;
  run(options: BenchOptions): string[] | Promise<string[]>;
}

export const benchmarks: Readonly<Record<string, Benchmark>> = {
  [configParse.name]: configParse,
  [ipvsBench.name]: ipvsBench,
  [dataplaneBench.name]: dataplaneBench,
  [clusterLoadBench.name]: clusterLoadBench,
  [failoverBench.name]: failoverBench,
  [syncBench.name]: syncBench,
  [hostSampleBench.name]: hostSampleBench,
  [kernelPollBench.name]: kernelPollBench,
};
