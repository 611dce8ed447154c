export {
  booleanVar,
  ConfigError,
  delayListVar,
  durationVar,
  type Env,
  enumVar,
  intVar,
  listVar,
  loadConfig,
  parseDuration,
  portVar,
  secretVar,
  stringVar,
  urlVar,
} from './config.ts';
export { Decimal, DecimalError, DecimalSum } from './decimal.ts';
export { DeferError, FatalError, RetryableError } from './errors.ts';
export { bearerTokenCheck, bearerTokenMatches, type HttpServer, type HttpServerOptions, type Readiness, startHttpServer } from './http.ts';
export {
  type Infrastructure,
  type InfrastructureName,
  type InfrastructureOf,
  infrastructureNames,
  infrastructureSchema,
  type KafkaSecurity,
  LOCAL_CREDENTIALS,
  loadInfrastructure,
} from './infrastructure.ts';
export {
  type JsonPath,
  JsonStreamError,
  type JsonStreamOptions,
  type JsonStreamValue,
  streamJson,
  streamJsonBatches,
} from './json-stream.ts';
export { ensureLocalApiToken, localApiTokenFile, readLocalApiToken } from './local-api-token.ts';
export { createLogger, type LogFields, type Logger, type LoggerOptions, type LogLevel, logLevels } from './logger.ts';
export { createMessagingMetrics, type MessageOutcome, type MessagingMetrics } from './metrics.ts';
export {
  createPostgresPool,
  type Migration,
  MigrationError,
  migrate,
  type PostgresPoolOptions,
  readMigrations,
  ServiceDatabase,
  type ServiceDatabaseOptions,
  withTransaction,
} from './postgres.ts';
export { describeError, REDACTED, redact, registerSecret, SECRET_NAME } from './redaction.ts';
export { createS3Client } from './s3.ts';
export { loadServiceConfig, type ServiceConfig, type ServiceConfigOptions, type ServiceName, serviceHttpPorts } from './service-config.ts';
export {
  type PerformedSideEffect,
  type Reconciliation,
  type SideEffectAttempt,
  SideEffectLedger,
  type SideEffectLedgerOptions,
  type SideEffectOptions,
  type SideEffectRecord,
  type SideEffectState,
  sideEffectLedgerMigration,
} from './side-effect-ledger.ts';
export { inSpan } from './spans.ts';
export { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.ts';
