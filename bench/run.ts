// `npm run bench -- NAME`: runs one benchmark from bench/ and prints its figures.
// Benchmarks report numbers; they never pass or fail.
import { benchmarks } from './registry';

function main(): void {
  const name = process.argv[2];
  const bench = name === undefined ? undefined : benchmarks[name];
  if (bench === undefined) {
    process.stderr.write(`usage: npm run bench -- NAME\nbenchmarks: ${Object.keys(benchmarks).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  for (const line of bench.run({ smoke: false })) process.stdout.write(line + '\n');
}

main();
