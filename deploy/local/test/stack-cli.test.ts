import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { components } from '../src/components.ts';
import { deployDir, repoRoot } from '../src/paths.ts';
import { isListening, portHolder } from '../src/ports.ts';

const exec = promisify(execFile);
const cli = (...args: string[]) =>
  exec(process.execPath, ['--import', 'tsx', join(deployDir, 'src', 'cli.ts'), ...args], { cwd: repoRoot }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('stack CLI', () => {
  it('status prints one line per component, each up with its version and endpoint', async () => {
    const { code, stdout } = await cli('status');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(components.length);
    for (const component of components) {
      const line = lines.find((l) => l.split(/\s+/)[1] === component.name);
      expect(line, component.name).toMatch(/^up\s/);
      expect(line).toContain(component.endpoint);
    }
  });

  it('rejects an unknown command or flag with usage and exit code 2', async () => {
    const bad = await cli('upp');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command upp');
    const flag = await cli('status', '--verbose');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown flag --verbose');
  });

  it('names the program holding a port', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      expect(await isListening(port)).toBe(true);
      expect(portHolder(port)).toBe(`node (pid ${process.pid})`);
    } finally {
      server.close();
    }
    expect(await isListening(port)).toBe(false);
  });
});
