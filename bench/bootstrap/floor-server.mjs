#!/usr/bin/env node
// The lower bound for any HTTP server in one Node process on this machine: a node:net responder
// that parses nothing (it only counts blank-line-terminated heads) and answers each with fixed
// bytes. Measure it like any server:
//
//   node bench/bootstrap/floor-server.mjs 9102 &
//   node bench/bootstrap/run.mjs --only ping --url http://127.0.0.1:9102 --pid $!
//
// Not a server to use: it ignores bodies, methods and paths.
import { createServer } from 'node:net';

const port = Number(process.argv[2] ?? 9102);
const answer = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK',
);
createServer({ noDelay: true }, (socket) => {
  let pending = '';
  socket.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
      pending = pending.slice(end + 4);
      socket.write(answer);
    }
  });
  socket.on('error', () => {});
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
