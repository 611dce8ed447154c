import { status } from '../src/stack.ts';

export default async function requireStack(): Promise<void> {
  const down = (await status()).filter((s) => !s.up).map((s) => `${s.component.name} (${s.component.endpoint})`);
  if (down.length > 0) {
    throw new Error(
      `the local stack is not fully up; down: ${down.join(', ')}. \`npm test\` brings it up first; so does \`npm run stack:up\`.`,
    );
  }
}
