// How fast a large keepalived-style file is read and checked: N virtual servers of ten
// real servers each (with checkers), and N/10 VRRP instances. When keepalived is
// installed, its own config test (`keepalived -t`) reads the same file in the same run,
// and the ratio is reported.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/load';
import type { Benchmark, BenchOptions } from './registry';

export function generateConfig(services: number): string {
  const out: string[] = ['global_defs {', '    router_id bench', '}'];
  for (let i = 0; i < Math.max(1, Math.floor(services / 10)); i++) {
    out.push(
      `vrrp_instance VI_${i} {`,
      `    interface eth${Math.floor(i / 255)}`,
      `    virtual_router_id ${(i % 255) + 1}`,
      `    priority ${100 + (i % 50)}`,
      '    advert_int 1',
      '    virtual_ipaddress {',
      `        10.${Math.floor(i / 250) % 250}.${i % 250}.1/32 dev lo`,
      '    }',
      '}',
    );
  }
  for (let s = 0; s < services; s++) {
    const vip = `10.200.${Math.floor(s / 250) % 250}.${(s % 250) + 1}`;
    out.push(`virtual_server ${vip} ${1000 + (s % 1000)} {`, '    delay_loop 6', '    lb_algo wlc', '    lb_kind NAT', '    protocol TCP');
    for (let r = 0; r < 10; r++) {
      out.push(
        `    real_server 192.168.${s % 250}.${r + 1} 8080 {`,
        '        weight 1',
        '        TCP_CHECK {',
        '            connect_timeout 3',
        '        }',
        '    }',
      );
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}

function timeMs(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function keepalivedTestMs(file: string): number | undefined {
  const probe = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) return undefined;
  const start = process.hrtime.bigint();
  // -t: config test; -l: log to console; -n: no daemon. Exit status reflects the (missing
  // interface) warnings of a lab machine, not the parse, so it is not checked.
  spawnSync('keepalived', ['-t', '-l', '-n', '-f', file], { encoding: 'utf8', timeout: 120_000 });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export const configParse: Benchmark = {
  name: 'config-parse',
  run(options: BenchOptions): string[] {
    const sizes = options.smoke ? [10] : [100, 1000, 5000];
    const lines: string[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hadirector-bench-'));
    try {
      for (const services of sizes) {
        const file = path.join(dir, `bench-${services}.conf`);
        const text = generateConfig(services);
        fs.writeFileSync(file, text);
        let parsed = 0;
        const ms = timeMs(() => {
          const r = loadConfig(file, { node: 'bench' });
          parsed = r.config.virtualServers.length;
        });
        const lineCount = text.split('\n').length;
        let line = `config-parse services=${parsed} lines=${lineCount} hadirector=${ms.toFixed(1)}ms (${Math.round(lineCount / (ms / 1000))} lines/s)`;
        const peer = options.smoke ? undefined : keepalivedTestMs(file);
        if (peer !== undefined) line += ` keepalived-t=${peer.toFixed(1)}ms ratio=${(ms / peer).toFixed(2)}`;
        lines.push(line);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return lines;
  },
};
