// The Clazar stand-in as a process, for `npm start`: metering sends to it when no
// CLAZAR_API_URL is set, and each record it accepts is printed, so a newcomer sees usage reach
// "Clazar" without an account. Not a Clazar: nothing leaves the machine.
import { startClazarStandIn } from './clazar-stand-in.ts';

const port = Number(process.env.CLAZAR_STAND_IN_PORT ?? 7101);
const clientId = process.env.CLAZAR_CLIENT_ID ?? '';
const clientSecret = process.env.CLAZAR_CLIENT_SECRET ?? '';
if (clientId === '' || clientSecret === '') {
  console.error('the Clazar stand-in needs CLAZAR_CLIENT_ID and CLAZAR_CLIENT_SECRET: the credentials it accepts');
  process.exit(2);
}

const standIn = await startClazarStandIn({
  clientId,
  clientSecret,
  port,
  onAccepted: (u) => console.log(`accepted ${u.contract_id} ${u.dimension}=${u.quantity} for ${u.start_time} to ${u.end_time} (${u.id})`),
});
console.log(`Clazar stand-in listening on ${standIn.url} (POST /authenticate/, POST /metering/)`);
const stop = () => {
  standIn.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
