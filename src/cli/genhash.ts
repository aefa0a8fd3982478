// `hadirector genhash`: the MD5 digest of a page, for HTTP_GET and SSL_GET's `digest`,
// as keepalived's genhash computes it.
import { httpGet } from '../health/probes';
import type { CliIo } from './io';

export interface GenhashOptions {
  readonly server: string;
  readonly port: number;
  readonly url: string;
  readonly ssl: boolean;
  readonly virtualhost?: string;
  readonly timeoutS: number;
}

export async function runGenhash(o: GenhashOptions, io: CliIo): Promise<number> {
  const answer = await httpGet({
    target: { address: o.server, port: o.port },
    path: o.url,
    tls: o.ssl,
    timeoutMs: o.timeoutS * 1000,
    ...(o.virtualhost !== undefined ? { virtualhost: o.virtualhost } : {}),
  });
  if ('error' in answer) {
    io.stderr(`hadirector genhash: ${o.server}:${o.port}${o.url}: ${answer.error}\n`);
    return 1;
  }
  io.stdout(`HTTP status ${answer.status}\nMD5SUM = ${answer.digest}\n`);
  return 0;
}
