// How stack:up launches one component: a server that dies at its first start is launched once
// more, and one that dies twice is an error saying how it ended. Played by a small Node
// program so the real servers of the running stack are not disturbed.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Component } from '../src/components.ts';
import { stackDir } from '../src/paths.ts';
import { stopProcess } from '../src/processes.ts';
import { StackError, startComponent } from '../src/stack.ts';

const name = `test-flaky-${process.pid}`;
const dir = join(stackDir, name);
const port = 7391;

/** A component whose program dies (SIGKILL, nothing printed) at each of its first `deaths` launches, then serves. */
function flakyComponent(deaths: number): Component {
  const counter = join(dir, 'launches');
  const program = `
    const fs = require('node:fs');
    const n = fs.existsSync(${JSON.stringify(counter)}) ? Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) : 0;
    fs.writeFileSync(${JSON.stringify(counter)}, String(n + 1));
    if (n < ${deaths}) process.kill(process.pid, 'SIGKILL');
    require('node:http').createServer((q, r) => r.end('v' + (n + 1))).listen(${port}, '127.0.0.1');
  `;
  return {
    name,
    product: 'a flaky test server',
    endpoint: `http://127.0.0.1:${port}`,
    ports: [port],
    composeService: name,
    dependsOn: [],
    startTimeoutSeconds: 10,
    install: async () => {},
    prepare: async () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'program.cjs'), program);
    },
    launch: () => ({ command: process.execPath, args: [join(dir, 'program.cjs')] }),
    probe: async () => (await fetch(`http://127.0.0.1:${port}`)).text(),
  };
}

afterEach(async () => {
  await stopProcess(dir, 5_000);
  rmSync(dir, { recursive: true, force: true });
});

describe('starting a component', () => {
  it('launches a server that died silently at its first start once more, and says so', async () => {
    const lines: string[] = [];
    await startComponent(flakyComponent(1), (line) => lines.push(line));
    expect(lines[0]).toContain(`${name} exited during start (killed by SIGKILL)`);
    expect(lines[0]).toContain('launching it once more');
    expect(lines[1]).toMatch(new RegExp(`^${name}: started \\(v2, pid \\d+\\)`));
  });

  it('fails, naming how it ended, when it dies at the second start too', async () => {
    const lines: string[] = [];
    const failure = startComponent(flakyComponent(2), (line) => lines.push(line));
    await expect(failure).rejects.toBeInstanceOf(StackError);
    await expect(failure).rejects.toThrow(`${name} exited during start (killed by SIGKILL)`);
    expect(lines).toHaveLength(1);
  });
});
