import { runService } from '@tickflow/messaging';
import { service } from './service.ts';

await runService(service);
