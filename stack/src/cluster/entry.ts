/**
 * The entry URL of the Kubernetes node of `npm run cluster`: a TCP forwarder from a loopback port to the
 * ingress Service (reachable from the host through kube-proxy), so that the system answers on
 * http://127.0.0.1:<entry> as a user reaches it, without any port of the machine's own interfaces.
 * usage: node entry.js <listen host:port> <target host:port>
 */
import { connect, createServer } from 'node:net';

const [listen, target] = process.argv.slice(2).map((a) => {
  const at = a.lastIndexOf(':');
  return { host: a.slice(0, at), port: Number(a.slice(at + 1)) };
});
if (!listen || !target) throw new Error('usage: entry.js <listen host:port> <target host:port>');

const server = createServer((client) => {
  const upstream = connect(target);
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(listen.port, listen.host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
