// One webhook's delivery of one region's new version: the changes that pass its filters (the
// first 1,000 in the body, with the total; the rest are in the history API), signed and POSTed
// once. The side-effect ledger keeps a redelivery after a crash from POSTing again once the
// receiver took it; a POST whose answer was lost is sent again with the same delivery id,
// which the receiver dedupes.
import type { PricingWebhookDelivery } from '@tickflow/contracts';
import type { Handler } from '@tickflow/messaging';
import type { SideEffectLedger } from '@tickflow/runtime';
import type { WebhookRepository } from '../adapters/webhook-repository.ts';
import { WebhookRefusedError, type WebhookSender } from '../adapters/webhook-sender.ts';

export const DELIVERY_CHANGES = 1000;

export interface WebhookDeliveryDependencies {
  webhooks: WebhookRepository;
  sender: WebhookSender;
  ledger: SideEffectLedger;
}

export function webhookDeliveryHandler(deps: WebhookDeliveryDependencies): Handler<PricingWebhookDelivery> {
  return async (message) => {
    const { deliveryId, webhookId, cloud, region, version, previousVersion } = message.payload;
    const webhook = await deps.webhooks.withSecret(webhookId);
    if (webhook === null) {
      message.log.info('webhook deleted before its delivery: nothing sent', { webhookId, deliveryId });
      return;
    }
    const { changes, total } = await deps.webhooks.changesFor(webhook, { cloud, region, version }, DELIVERY_CHANGES);
    if (total === 0) return;
    const body = JSON.stringify({
      deliveryId,
      type: 'tickflow.pricing.price.changed',
      cloud,
      region,
      version,
      previousVersion,
      total,
      truncated: total > changes.length,
      changes: changes.map(({ sku: _, detectedAt: __, ...change }) => change),
    });
    const performed = await deps.ledger.perform(
      `webhook/${deliveryId}`,
      ({ signal }) => deps.sender.deliver(webhook.url, webhook.secret, deliveryId, body, AbortSignal.any([signal, message.signal])),
      { onUnknown: 'redo', definitelyNotDone: (error) => error instanceof WebhookRefusedError },
    );
    message.log.info('webhook delivered', {
      webhookId,
      deliveryId,
      changes: total,
      status: performed.result.status,
      sentNow: performed.performedNow,
    });
  };
}
