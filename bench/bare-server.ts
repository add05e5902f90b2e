/**
 * Baseline for the benchmark: the cheapest possible node:http server, answering
 * 200 with an empty body to every request. Listens on 127.0.0.1, port from argv[2]
 * (0 = any free port), and prints the bound port on stdout.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const port = Number(process.argv[2] ?? 0);

const server = http.createServer((_req, res) => {
  res.statusCode = 200;
  res.setHeader('content-length', '0');
  res.end();
});
server.keepAliveTimeout = 60_000;

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
