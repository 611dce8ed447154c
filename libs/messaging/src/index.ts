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
export {
  DeferError,
  type ErrorClassifier,
  type ErrorVerdict,
  FatalError,
  RecordTooLargeError,
  RetryableError,
  UndecodableMessageError,
} from './errors.ts';
export { HandlerTimeoutError } from './handler-deadlines.ts';
export { kafkaClientConfig } from './kafka-client-config.ts';
export { KafkaJsTransport, type KafkaJsTransportOptions } from './kafkajs-transport.ts';
export { dedupe, logging } from './middleware.ts';
export { decideFailure, type FailureOutcome } from './outcome.ts';
export {
  DEFAULT_DEFER_LIMITS,
  type DeferLimits,
  type ExponentialBackoff,
  exponentialBackoff,
  type FixedDelays,
  fixedDelays,
  type RetryPolicy,
} from './retry-policy.ts';
export { DEFAULT_DELAY_LADDER, deadLetterTopic, delayTopic, parseDelay, parseTiers, type RetryTier, retryTopic } from './retry-tiers.ts';
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
} from './router.ts';
export {
  defineService,
  type RunningService,
  resolveService,
  runService,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceParts,
  type ServiceSettings,
  startService,
  topicSpecsOf,
} from './service-host.ts';
export {
  type ConsumedTopic,
  DEFAULT_PARTITIONS,
  eventsTopicOf,
  requestTopicSpec,
  type TopicDeclaration,
  topicSpecs,
} from './topic-declaration.ts';
export type { Batch, OutgoingRecord, ReceivedRecord, SubscribeOptions, Subscription, TopicSpec, Transport } from './transport.ts';
