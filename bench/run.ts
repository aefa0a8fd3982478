// `npm run bench -- NAME`: runs one benchmark from bench/ and prints its figures.
// Benchmarks report numbers; they never pass or fail.
import { benchmarks } from './registry';

async function main(): Promise<void> {
  const name = process.argv[2];
  const bench = name === undefined ? undefined : benchmarks[name];
  if (bench === undefined) {
    process.stderr.write(`usage: npm run bench -- NAME\nbenchmarks: ${Object.keys(benchmarks).join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  for (const line of await bench.run({ smoke: false, args: process.argv.slice(3) })) process.stdout.write(line + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
