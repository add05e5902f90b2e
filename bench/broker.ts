/**
 * A bare MQTT broker (aedes) for the TTS benchmark, run as a child process so it has its own
 * event loop: `node --import tsx bench/broker.ts [port]` listens on 127.0.0.1 and prints the
 * port on stdout. It accepts any username/password (Pinwheel's integration logs in the way
 * The Things Stack expects: app@tenant + API key) and any topic.
 */
import net from 'node:net';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker();
const server = net.createServer(broker.handle);
const port = Number(process.argv[2] ?? 0);
server.listen(port, '127.0.0.1', () => {
  const addr = server.address() as net.AddressInfo;
  process.stdout.write(`${addr.port}\n`);
});

const stop = () => {
  server.close();
  broker.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
