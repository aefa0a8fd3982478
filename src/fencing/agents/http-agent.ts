// The `http` agent: a power switch or BMC behind an HTTP API, Redfish style. `url` is
// the system's resource (e.g. https://bmc/redfish/v1/Systems/1, `%n` for the node);
// off, reboot and on POST {"ResetType": "ForceOff" | "ForceRestart" | "On"} to
// `URL/Actions/ComputerSystem.Reset`; status GETs the resource and reads PowerState.
// `username` and `password` go as basic authentication; `ssl_insecure 1` accepts any
// certificate. A 2xx answer is success.
import http from 'node:http';
import https from 'node:https';
import type { AgentAction, AgentResult } from './fence-agent';

export const resetTypes: Readonly<Record<string, string>> = { off: 'ForceOff', reboot: 'ForceRestart', on: 'On' };
const maxAnswerBytes = 64 * 1024;

export function httpRequestFor(options: Readonly<Record<string, string>>, target: string, action: AgentAction): { method: 'GET' | 'POST'; url: URL; body?: string } | { error: string } {
  const base = options['url'];
  if (base === undefined) return { error: 'the http agent needs url' };
  let url: URL;
  try {
    url = new URL(base.split('%n').join(encodeURIComponent(target)));
  } catch {
    return { error: `url '${base}' is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `url '${base}' is neither http nor https` };
  if (action === 'status' || action === 'monitor') return { method: 'GET', url };
  const resetUrl = new URL(url.href.replace(/\/$/, '') + '/Actions/ComputerSystem.Reset');
  return { method: 'POST', url: resetUrl, body: JSON.stringify({ ResetType: resetTypes[action] }) };
}

export function httpFence(options: Readonly<Record<string, string>>, target: string, action: AgentAction, signal: AbortSignal): Promise<AgentResult> {
  const request = httpRequestFor(options, target, action);
  if ('error' in request) return Promise.resolve({ code: undefined, detail: request.error });
  const { method, url, body } = request;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const user = options['username'];
  if (user !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${user}:${options['password'] ?? ''}`).toString('base64')}`;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const req = client.request(url, { method, headers, signal, ...(url.protocol === 'https:' ? { rejectUnauthorized: options['ssl_insecure'] !== '1' } : {}) }, (res) => {
      let answer = '';
      res.on('data', (d: Buffer) => {
        if (answer.length < maxAnswerBytes) answer += d.toString();
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        if (method === 'GET' && ok) {
          const power = /"PowerState"\s*:\s*"([A-Za-z]+)"/.exec(answer)?.[1] ?? 'unknown';
          return resolve({ code: power === 'Off' ? 2 : 0, detail: `PowerState ${power}` });
        }
        resolve({ code: ok ? 0 : 1, detail: `${method} ${url.pathname}: HTTP ${status}` });
      });
      res.on('error', (err) => resolve({ code: undefined, detail: err.message }));
    });
    req.on('error', (err) => resolve({ code: undefined, detail: err.name === 'AbortError' ? 'killed' : `${url.host}: ${err.message}` }));
    req.end(body);
  });
}
