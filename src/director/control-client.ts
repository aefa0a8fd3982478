// The client side of the control API, for the CLI and the tests: one request, one answer.
import net from 'node:net';
import { controlLineMaxBytes, type ControlRequest, type ControlResponse } from './control-protocol';

export class ControlUnreachable extends Error {}

export function controlRequest(socketPath: string, request: ControlRequest, timeoutMs = 30_000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffered = '';
    let settled = false;
    const finish = (err: Error | null, response?: ControlResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err !== null) reject(err);
      else resolve(response as ControlResponse);
    };
    const timer = setTimeout(() => finish(new ControlUnreachable(`${socketPath}: no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline !== -1) {
        try {
          finish(null, JSON.parse(buffered.slice(0, newline)) as ControlResponse);
        } catch (err) {
          finish(new Error(`bad answer from the director: ${(err as Error).message}`));
        }
      } else if (buffered.length > controlLineMaxBytes) finish(new Error('answer too long'));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => finish(new ControlUnreachable(`cannot reach the director at ${socketPath}: ${err.code ?? err.message}`)));
    socket.once('close', () => finish(new ControlUnreachable(`the director at ${socketPath} closed the connection without answering`)));
  });
}
