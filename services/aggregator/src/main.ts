// The aggregator's process: its definition handed to the service host.
import { runService } from '@tickflow/messaging';
import { service } from './service.ts';

await runService(service);
