#!/usr/bin/env node
// CPU cost of the HTTP/1.1 request parser alone, per request, without sockets:
//
//   npm run build && node bench/bootstrap/parser.mjs [--requests 1000000] [--rounds 5]
//
// Feeds the request wrk's ping.lua sends (`POST /ping` with a Host header) to one RequestParser,
// one request per push, as a socket delivers it; prints ns per request for each round (the first
// rounds include JIT warm-up, the last ones are the number to quote).
import { parseArgs } from 'node:util';
import { RequestParser } from '../../packages/bootstrap/dist/src/http1/request-parser.js';

const { values: opt } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
  },
});
const n = Number(opt.requests);
const request = Buffer.from('POST /ping HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n');
let parsed = 0;
const parser = new RequestParser(
  { maxBodyBytes: 4096 },
  {
    onRequest: () => {
      parsed++;
    },
  },
);
for (let round = 1; round <= Number(opt.rounds); round++) {
  const started = process.hrtime.bigint();
  // A fresh Buffer per push, as the socket gives one per read.
  for (let i = 0; i < n; i++) parser.push(Buffer.from(request));
  const ns = Number(process.hrtime.bigint() - started) / n;
  console.log(`round ${round}: ${ns.toFixed(0)} ns per request (${parsed} parsed so far)`);
}
