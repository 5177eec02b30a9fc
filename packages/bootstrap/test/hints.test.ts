// Values stored although they cannot work: which ones the service reports, and that it reports
// them without refusing the request.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BootstrapWarning, createBootstrapService } from '../src/handler.js';
import { configHints, isIpAddress, peerHints } from '../src/hints.js';
import { createMemoryStore } from '../src/stores/memory.js';
import { peer } from './conformance.js';

test('isIpAddress: IPv4 dotted quads and IPv6 literals, nothing else', () => {
  for (const ok of [
    '127.0.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '::1',
    'fe80::1',
    '::ffff:1.2.3.4',
  ]) {
    assert.equal(isIpAddress(ok), true, ok);
  }
  for (const bad of [
    'not-an-ip',
    '',
    '256.1.1.1',
    '1.2.3',
    'localhost',
    '[::1]',
    '::1%eth0',
    '1::2::3',
  ]) {
    assert.equal(isIpAddress(bad), false, bad);
  }
});

test('peerHints: ip, protocol and timestamp that cannot work; none for an original peer', () => {
  assert.deepEqual(peerHints(peer('a')), []);
  assert.deepEqual(peerHints({ ...peer('a'), status: '' }), []);
  const hints = peerHints({ ...peer('a'), ip: 'not-an-ip', protocol: 'sctp', timestamp: 'soon' });
  assert.equal(hints.length, 3);
  assert.match(hints[0], /^ip "not-an-ip" is not an IP address/);
  assert.match(hints[1], /^protocol "sctp" is neither tcp nor udp$/);
  assert.match(hints[2], /^timestamp "soon" is not Unix seconds/);
});

test('configHints: maxpeers ≤ 0, negative or larger minrefillcandidates', () => {
  assert.deepEqual(configHints({ maxpeers: 2, minrefillcandidates: 2 }), []);
  assert.deepEqual(configHints({ maxpeers: 0, minrefillcandidates: 0 }), [
    'maxpeers 0: no peer can join the list',
  ]);
  assert.equal(configHints({ maxpeers: 3, minrefillcandidates: -1 }).length, 1);
  assert.match(configHints({ maxpeers: 2, minrefillcandidates: 5 })[0], /larger than maxpeers 2/);
});

test('the handler stores the value, answers 200 and emits one warning per hint', async () => {
  const warnings: BootstrapWarning[] = [];
  const service = createBootstrapService({
    store: createMemoryStore(),
    warn: (w) => {
      warnings.push(w);
      throw new Error('a failing logger must not refuse the request');
    },
  });
  const body = new TextEncoder().encode('a n not-an-ip 7946 tcp  1557509977');
  const res = await service.handle({ method: 'POST', path: '/refill', body });
  assert.equal(res.status, 200, res.body);
  assert.match(res.body, /"ip": "not-an-ip"/);
  assert.deepEqual(warnings, [
    { path: '/refill', message: peerHints({ ...peer('a'), ip: 'not-an-ip' })[0] },
  ]);
});
