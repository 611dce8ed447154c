export {
  AVRO_CONTENT_TYPE,
  type CloudEventAttributes,
  cloudEventHeaders,
  type DeadLetterReason,
  type Headers,
  newCloudEvent,
  RETRY,
  readCloudEvent,
} from './envelope.ts';
export { DeferError, type ErrorClassifier, FatalError, RetryableError, UndecodableMessageError } from './errors.ts';
export { HandlerTimeoutError } from './handler-deadlines.ts';
export { KafkaJsTransport, type KafkaJsTransportOptions } from './kafkajs-transport.ts';
export { dedupe, logging } from './middleware.ts';
export { decideFailure, type FailureOutcome } from './outcome.ts';
export { deadLetterTopic, parseDelay, parseTiers, type RetryTier, retryTopic } from './retry-tiers.ts';
export {
  type Codec,
  type Contract,
  type Handler,
  type Log,
  type MessageContext,
  type Middleware,
  type OutcomeObserver,
  produceTraced,
  type RouteOptions,
  Router,
  type RouterOptions,
  requestTopicSpec,
} from './router.ts';
export { type RunningService, runService, type ServiceContext, type ServiceDefinition, startService } from './service-host.ts';
export type { Batch, OutgoingRecord, ReceivedRecord, SubscribeOptions, Subscription, TopicSpec, Transport } from './transport.ts';
