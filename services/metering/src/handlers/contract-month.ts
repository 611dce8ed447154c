// One contract's usage of a month to Clazar, through the side-effect ledger: the request is
// recorded under `clazar/<plan>/<month>/<contract>/<n>` before it is made and marked done with
// the contract's new state in one transaction after, so a redelivery never sends it again. A
// crash between the call and the mark leaves the outcome unknown; the next delivery sends the
// same records again, and Clazar reports those it has as duplicates, which count as sent —
// so each contract-month-dimension is accepted once.
import { type MeteringContractRequested, meteringContractFailed, meteringContractSent } from '@tickflow/contracts';
import { FatalError, type Handler } from '@tickflow/messaging';
import { describeError, type SideEffectLedger } from '@tickflow/runtime';
import { type ClazarClient, type ClazarFailure, ClazarRefusedError } from '../adapters/clazar-client.ts';
import type { MeteringRepository } from '../adapters/metering-repository.ts';
import type { MeteringMetrics } from '../metrics.ts';
import { completeMonthIfDone } from '../month-completion.ts';

export interface ContractMonthDependencies {
  repository: MeteringRepository;
  ledger: SideEffectLedger;
  clazar: ClazarClient;
  /** The route's deliveries in all: the last one puts a contract whose send keeps failing in error. */
  maxAttempts: number;
  metrics: MeteringMetrics;
}

export function contractMonthHandler(deps: ContractMonthDependencies): Handler<MeteringContractRequested> {
  return async (message) => {
    const { plan, month, contractId, sends } = message.payload;
    const contract = await deps.repository.contract(plan, month, contractId);
    if (contract === null) throw new FatalError(`no bill stored for contract ${contractId} of ${plan} ${month}`);
    const open = contract.status === 'pending' || contract.status === 'error';
    if (!open || contract.sends !== sends || contract.payload === null) {
      message.log.debug('contract-month handled already', { plan, month, contractId, status: contract.status, sends: contract.sends });
      return;
    }
    const wasInError = contract.status === 'error';
    const records = contract.payload.request;
    let reply: Awaited<ReturnType<ClazarClient['sendUsage']>>;
    try {
      const performed = await deps.ledger.perform(
        `clazar/${plan}/${month}/${contractId}/${sends + 1}`,
        ({ signal }) => deps.clazar.sendUsage(records, AbortSignal.any([signal, message.signal])),
        {
          // Re-sending after an unknown outcome is safe: what Clazar has comes back as a duplicate.
          onUnknown: 'redo',
          definitelyNotDone: (error) => error instanceof ClazarRefusedError,
          onDone: (client, result) => deps.repository.recordSend(client, plan, month, contractId, result, wasInError),
        },
      );
      reply = performed.result;
    } catch (error) {
      const final = error instanceof FatalError || message.attempt + 1 >= deps.maxAttempts;
      const code = (error as Partial<ClazarFailure>).code ?? (error as Error).name ?? 'Error';
      const { message: text } = describeError(error);
      await deps.repository.recordSendFailure(plan, month, contractId, { code, message: text }, final).catch(() => undefined);
      await message.emit(
        meteringContractFailed,
        { plan, month, contractId, code, message: text, errors: [], dimensions: [], retryCount: contract.retryCount, final },
        contractId,
      );
      if (final) {
        deps.metrics.contracts.inc({ outcome: 'failed' });
        await completeMonthIfDone(message, deps.repository, plan, month).catch(() => undefined);
      }
      throw error;
    }
    const retryCount = contract.retryCount + (wasInError ? 1 : 0);
    if (reply.refused.length > 0) {
      deps.metrics.contracts.inc({ outcome: 'failed' });
      await message.emit(
        meteringContractFailed,
        {
          plan,
          month,
          contractId,
          code: reply.code ?? 'ERROR',
          message: reply.message ?? '',
          errors: reply.errors,
          dimensions: reply.accepted,
          retryCount,
          final: true,
        },
        contractId,
      );
      message.log.warn('Clazar refused usage', { plan, month, contractId, errors: reply.errors });
    } else {
      deps.metrics.contracts.inc({ outcome: 'sent' });
      await message.emit(
        meteringContractSent,
        { plan, month, contractId, dimensions: reply.accepted, warnings: reply.warnings, retryCount },
        contractId,
      );
      if (reply.warnings.length > 0) message.log.warn('Clazar warned about usage', { plan, month, contractId, warnings: reply.warnings });
    }
    await completeMonthIfDone(message, deps.repository, plan, month);
  };
}
