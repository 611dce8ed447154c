import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';

export function isListening(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** "java (pid 1234)" for whatever listens on the port, as far as this machine tells. */
export function portHolder(port: number): string {
  try {
    const out = execFileSync('ss', ['-H', '-l', '-t', '-n', '-p', `sport = :${port}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(out);
    if (match) return `${match[1]} (pid ${match[2]})`;
  } catch {
    // ss missing or not permitted: fall through
  }
  return 'an unknown program';
}
