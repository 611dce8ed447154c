// How every Kafka client of tickflow connects — the services' transport, the scheduler's
// leadership and transactions, the CLI — built in one place from the environment's
// KAFKA_SASL_* and KAFKA_TLS_* settings (libs/runtime's infrastructure).
import { isIP } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { KafkaSecurity } from '@tickflow/runtime';
import type { ISocketFactory, KafkaConfig, SASLOptions } from 'kafkajs';

export function kafkaClientConfig(clientId: string, brokers: string[], security: KafkaSecurity = {}): KafkaConfig {
  const config: KafkaConfig = { clientId, brokers };
  if (security.tls) {
    const { ca, cert, key } = security.tls;
    // No CA file: the system's trusted CAs, as for a managed Kafka (MSK, Confluent Cloud).
    config.ssl = ca || cert ? { ...(ca ? { ca: [ca] } : {}), ...(cert && key ? { cert, key } : {}) } : true;
    config.socketFactory = tlsSocketNamingTheSetting;
  }
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    config.sasl = { mechanism, username, password } as SASLOptions;
  }
  return config;
}

const KEEP_ALIVE_DELAY_MS = 60_000;

// Node's codes for a broker certificate that no CA the client trusts has signed.
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);
// The broker's TLS alerts when it wants a client certificate it did not get, or does not trust the one it got.
const REFUSED_CLIENT_CERTIFICATE = /^ERR_SSL_.*ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN|UNKNOWN_CA)$/;

/**
 * kafkajs' own TLS socket (SNI for host names, not for addresses; keep-alive), whose failures
 * during the handshake also say which setting to look at. kafkajs reports only the message of
 * Node's error ("unable to verify the first certificate"), after a round of retries, which
 * names neither the cause nor a variable.
 */
const tlsSocketNamingTheSetting: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const options = typeof ssl === 'object' ? ssl : {};
  const socket = connectTls({ host, port, ...(isIP(host) ? {} : { servername: host }), ...options }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS);
  let secured = false;
  socket.once('secureConnect', () => {
    secured = true;
  });
  // Added before kafkajs adds its own listener, so the message it reads has the hint in it.
  socket.on('error', (error: NodeJS.ErrnoException) => {
    const hint = tlsFailureHint(error.code, secured);
    if (hint) error.message = `${error.message} (${hint})`;
  });
  return socket;
};

/** `secured`: the handshake was done, as far as this side knows (in TLS 1.3 the broker checks a client certificate after that). */
function tlsFailureHint(code: string | undefined, secured: boolean): string | undefined {
  if (code === undefined) return undefined;
  if (UNTRUSTED_CERTIFICATE.has(code))
    return "no CA this client trusts signed the broker's certificate: KAFKA_TLS_CA_FILE names the CA that did";
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return "the broker's certificate is not for the host named in KAFKA_BROKERS";
  if (REFUSED_CLIENT_CERTIFICATE.test(code))
    return 'the broker wants a client certificate it trusts: KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE';
  if (code === 'ECONNRESET' && !secured) return 'the broker hung up during the TLS handshake: does this listener take TLS?';
  return undefined;
}
