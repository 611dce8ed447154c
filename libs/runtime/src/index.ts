export { ConfigError, type Env, loadConfig, stringVar, urlVar } from './config.ts';
export { type Infrastructure, infrastructureSchema, loadInfrastructure } from './infrastructure.ts';
