export { ConfigError, type Env, enumVar, loadConfig, portVar, stringVar, urlVar } from './config.ts';
export { type HttpServer, type HttpServerOptions, type Readiness, startHttpServer } from './http.ts';
export { type Infrastructure, infrastructureSchema, loadInfrastructure } from './infrastructure.ts';
export { createLogger, type LogFields, type Logger, type LoggerOptions, type LogLevel, logLevels, REDACTED } from './logger.ts';
export { createMessagingMetrics, type MessageOutcome, type MessagingMetrics } from './metrics.ts';
export { loadServiceConfig, type ServiceConfig, type ServiceName, serviceHttpPorts } from './service-config.ts';
export { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.ts';
