// The scheduler's HTTP API (services/scheduler): manual triggers and the schedule list.
import type { z } from 'zod';
import { CommandError } from './cli-errors.ts';
import { errorReplySchema, type ScheduleList, schedulesSchema, type TriggerAccepted, triggerAcceptedSchema } from './scheduler-api.ts';

const REQUEST_TIMEOUT_MS = 10_000;

export class SchedulerClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiToken: string | undefined,
  ) {}

  async trigger(schedule: string, payload: Record<string, string> | undefined): Promise<TriggerAccepted> {
    const response = await this.request(
      'POST',
      `/schedules/${encodeURIComponent(schedule)}/trigger`,
      payload === undefined ? {} : { payload },
    );
    if (response.status === 404) throw new CommandError(`schedule '${schedule}' does not exist (scheduler at ${this.baseUrl})`);
    if (response.status === 400) throw new CommandError(`the scheduler refused the trigger of '${schedule}': ${await errorOf(response)}`);
    await this.expect(response, 202);
    return this.parse(response, triggerAcceptedSchema);
  }

  async schedules(): Promise<ScheduleList> {
    const response = await this.request('GET', '/schedules');
    await this.expect(response, 200);
    return this.parse(response, schedulesSchema);
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiToken) headers.authorization = `Bearer ${this.apiToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw new CommandError(`cannot reach the scheduler at ${this.baseUrl} (SCHEDULER_URL): ${causeOf(error)}`);
    }
  }

  private async expect(response: Response, status: number): Promise<void> {
    if (response.status === status) return;
    if (response.status === 401 || response.status === 403) {
      throw new CommandError(
        this.apiToken
          ? `the scheduler at ${this.baseUrl} refused the token in SCHEDULER_API_TOKEN (HTTP ${response.status})`
          : `the scheduler at ${this.baseUrl} wants a token: set SCHEDULER_API_TOKEN (HTTP ${response.status})`,
      );
    }
    throw new CommandError(`the scheduler at ${this.baseUrl} answered HTTP ${response.status}: ${await errorOf(response)}`);
  }

  private async parse<S extends z.ZodType>(response: Response, schema: S): Promise<z.infer<S>> {
    const body: unknown = await response.json().catch(() => undefined);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const problem = issue ? `${issue.path.join('.') || '(body)'}: ${issue.message}` : 'not JSON';
      throw new CommandError(`the scheduler at ${this.baseUrl} sent a reply the CLI does not understand: ${problem}`);
    }
    return parsed.data;
  }
}

async function errorOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = errorReplySchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data.error;
  } catch {
    // Not JSON: the body itself is the best description there is.
  }
  return text.slice(0, 300) || '(no body)';
}

function causeOf(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no reply within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
