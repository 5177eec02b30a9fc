import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddressError,
  bytesToIp,
  chooseAdvertiseAddr,
  ipToBytes,
  joinHostPort,
  parseHostPort,
} from '../src/address.js';

describe('addresses', () => {
  it('parses host, host:port, [ipv6]:port and bare IPv6', () => {
    assert.deepEqual(parseHostPort('10.0.0.1', 7946), { host: '10.0.0.1', port: 7946 });
    assert.deepEqual(parseHostPort('10.0.0.1:1234', 7946), { host: '10.0.0.1', port: 1234 });
    assert.deepEqual(parseHostPort('[::1]:99', 7946), { host: '::1', port: 99 });
    assert.deepEqual(parseHostPort('[fd00::1]', 7946), { host: 'fd00::1', port: 7946 });
    assert.deepEqual(parseHostPort('fd00::1', 7946), { host: 'fd00::1', port: 7946 });
    assert.deepEqual(parseHostPort('example.org:80', 1), { host: 'example.org', port: 80 });
  });

  it('rejects malformed addresses with AddressError', () => {
    for (const bad of ['', '[::1', '[::1]x', '[nothost]:1', 'h:99999', 'h:x', ':80', 'a:b:c']) {
      assert.throws(() => parseHostPort(bad, 1), AddressError, bad);
    }
  });

  it('formats with brackets for IPv6', () => {
    assert.equal(joinHostPort('::1', 5), '[::1]:5');
    assert.equal(joinHostPort('1.2.3.4', 5), '1.2.3.4:5');
  });

  it('converts 4- and 16-byte IPs, mapping IPv4-in-IPv6 to dotted form', () => {
    assert.deepEqual([...ipToBytes('10.0.0.1')], [10, 0, 0, 1]);
    const v6 = ipToBytes('fd00::1');
    assert.equal(v6.length, 16);
    assert.equal(bytesToIp(v6), 'fd00::1');
    const mapped = ipToBytes('::ffff:127.0.0.1');
    assert.deepEqual([...mapped.subarray(10)], [0xff, 0xff, 127, 0, 0, 1]);
    assert.equal(bytesToIp(mapped), '127.0.0.1');
    assert.equal(bytesToIp(Uint8Array.of(1, 2, 3)), null);
    assert.equal(bytesToIp(ipToBytes('1:2:3:4:5:6:7:8')), '1:2:3:4:5:6:7:8');
    assert.equal(bytesToIp(ipToBytes('::')), '::');
  });

  it('advertises the bind address, or a detected one for wildcards', () => {
    assert.equal(chooseAdvertiseAddr('127.0.0.1', ''), '127.0.0.1');
    assert.equal(chooseAdvertiseAddr('0.0.0.0', '10.1.2.3'), '10.1.2.3');
    const detected = chooseAdvertiseAddr('0.0.0.0', '');
    assert.equal(ipToBytes(detected).length, 4);
    assert.throws(() => chooseAdvertiseAddr('0.0.0.0', 'not-an-ip'), AddressError);
  });
});
