import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { skipIfMissing } from '@isopeer/test-support';
import { chatLine, lineKind, sanitizeLine, statusTagOf } from '../src/chat-line.js';
import { ChatProtocolError } from '../src/errors.js';
import { decodeKvUpdates, encodeKvUpdates, type KvUpdate } from '../src/kv-update.js';
import {
  type ChatMemberRecord,
  decodeMemberRecord,
  decodeRemoteState,
  encodeLocalState,
  encodeMemberRecord,
  memberRecordJson,
} from '../src/member-record.js';
import { buildGoOracle, type GoOracle } from './go-json-oracle.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString('base64');
const fromB64 = (s: string) => Buffer.from(s, 'base64');

// Strings that exercise every escaping rule of Go's encoder.
const tricky = [
  'alice-host-71c3c0ea-e1bd-4112-97ac-1cfeeaa07bc3',
  'a<b>&c',
  'quote"back\\slash',
  'tab\tnl\ncr\rbell\u0007del\u007f',
  'line\u2028sep\u2029',
  'ünïcødé ✓ 😀',
  '',
];

const records: ChatMemberRecord[] = [
  {
    msgType: 0,
    name: 'alice-h-1',
    sender: '127.0.0.1:41234',
    timestamp: { seconds: 1557509977, nanos: 123000000 },
  },
  {
    msgType: 1,
    name: 'bob-h-2',
    sender: '127.0.0.1:1',
    timestamp: { seconds: 1557509977, nanos: 0 },
  },
  { msgType: 2, name: 'c', sender: '', timestamp: { seconds: 0, nanos: 5 } },
  { msgType: 1, name: 'd', sender: '[::1]:80', timestamp: { seconds: 0, nanos: 0 } },
  { msgType: 0, name: 'e', sender: 'h:2' },
  ...tricky.map((name) => ({ msgType: 1 as const, name, sender: '127.0.0.1:7946' })),
];
// Only Go's encoder sees these: senders that are not addresses, which our decoder refuses.
const encodeOnly: ChatMemberRecord[] = tricky.map((sender, i) => ({
  msgType: 2,
  name: tricky[(i + 1) % tricky.length]!,
  sender,
}));

const goMember = (r: ChatMemberRecord) => ({
  msgType: r.msgType,
  name: r.name,
  sender: r.sender,
  ts: r.timestamp ?? null,
});

describe('chat-member record', () => {
  it('encodes the documented example exactly as Go does (no Go needed)', () => {
    assert.equal(
      memberRecordJson(records[0]!),
      '{"name":"alice-h-1","sender":"127.0.0.1:41234","timestamp":{"seconds":1557509977,"nanos":123000000}}',
    );
    assert.equal(
      memberRecordJson({ msgType: 1, name: 'x<', sender: '', timestamp: { seconds: 0, nanos: 0 } }),
      '{"msgType":1,"name":"x\\u003c","timestamp":{}}',
    );
  });

  it('round-trips every record', () => {
    for (const r of records.filter((x) => x.name !== '')) {
      assert.deepEqual(decodeMemberRecord(encodeMemberRecord(r)), r);
    }
  });

  it('accepts what Go accepts: case-insensitive keys, unknown fields, null timestamp', () => {
    assert.deepEqual(decodeMemberRecord('{"MSGTYPE":1,"Name":"x","SENDER":"h:1","extra":[1]}'), {
      msgType: 1,
      name: 'x',
      sender: 'h:1',
    });
    assert.deepEqual(decodeMemberRecord('{"name":"x","sender":"h:1","timestamp":null}'), {
      msgType: 0,
      name: 'x',
      sender: 'h:1',
    });
  });

  it('rejects garbage with a message that says what is wrong', () => {
    const bad: Array<[string | Uint8Array, RegExp]> = [
      ['', /empty/],
      ['not json', /not JSON/],
      [Buffer.from([0xff, 0x00, 0x80, 0x7b]), /not JSON/],
      ['\ufeff{"name":"x","sender":"h:1"}', /not JSON/],
      ['[]', /expected a JSON object/],
      ['null', /expected a JSON object/],
      ['{"msgType":7,"name":"x"}', /msgType must be/],
      ['{"msgType":"1","name":"x"}', /msgType must be/],
      ['{"name":5}', /name must be a string/],
      ['{"sender":"h:1"}', /name is missing/],
      ['{"name":"x"}', /JOIN record needs the sender/],
      ['{"name":"x","sender":"nohostport"}', /not host:port/],
      ['{"name":"x","sender":"h:99999"}', /not host:port/],
      ['{"name":"x","sender":"h:1","timestamp":{"nanos":1.5}}', /nanos/],
      ['{"name":"x","sender":"h:1","timestamp":{"nanos":1000000000}}', /nanos/],
      ['{"name":"x","sender":"h:1","timestamp":{"seconds":"1"}}', /seconds/],
      ['{"name":"x","sender":"h:1","timestamp":7}', /timestamp must be an object/],
      [`{"name":"${'x'.repeat(70_000)}"}`, /exceeds/],
    ];
    for (const [input, why] of bad) {
      assert.throws(
        () => decodeMemberRecord(input),
        (e: unknown) =>
          e instanceof ChatProtocolError && e.code === 'CHAT_PROTOCOL' && why.test(e.message),
        `input ${JSON.stringify(String(input).slice(0, 40))}`,
      );
    }
  });

  it('writes lone surrogates as U+FFFD escapes and stays valid JSON', () => {
    const json = memberRecordJson({ msgType: 1, name: 'a\ud800b\udc00', sender: '' });
    assert.equal(json, '{"msgType":1,"name":"a\\ufffdb\\ufffd"}');
  });
});

describe('local state and key/value updates', () => {
  it('keeps good entries of a remote state and reports bad ones', () => {
    const { members, problems } = decodeRemoteState(
      '{"a":{"name":"a","sender":"h:1"},"b":{"name":"zzz","sender":"h:1"},"c":null,"d":{"name":5}}',
    );
    assert.deepEqual([...members.keys()], ['a']);
    assert.equal(problems.length, 2);
    assert.match(problems.join('\n'), /differs from the record's name/);
    assert.throws(() => decodeRemoteState('[1]'), ChatProtocolError);
    assert.throws(() => decodeRemoteState('{'), ChatProtocolError);
  });

  it('round-trips updates and rejects bad ones', () => {
    const ups = [
      { Action: 'add' as const, Data: { k: 'v w' } },
      { Action: 'del' as const, Data: { k: '' } },
    ];
    assert.equal(
      text(encodeKvUpdates(ups)),
      'd[{"Action":"add","Data":{"k":"v w"}},{"Action":"del","Data":{"k":""}}]',
    );
    assert.deepEqual(decodeKvUpdates(encodeKvUpdates(ups)), ups);
    for (const bad of [
      'd',
      'dnope',
      'd{}',
      'd[1]',
      'd[{"Action":"put","Data":{}}]',
      'd[{"Action":"add","Data":{"k":1}}]',
      'x[]',
    ]) {
      assert.throws(() => decodeKvUpdates(Buffer.from(bad)), ChatProtocolError, bad);
    }
  });
});

describe('chat lines', () => {
  it('formats and classifies lines like the original', () => {
    assert.equal(chatLine('bob', 'test'), '<bob> test\n');
    assert.equal(lineKind('<joined> alice has joined'), 'info');
    assert.equal(lineKind('<info> x'), 'info');
    assert.equal(lineKind('<left> bob has left'), 'warn');
    assert.equal(lineKind('<warn> x'), 'warn');
    assert.equal(lineKind('<error> x'), 'error');
    assert.equal(lineKind('<bob> <error> x'), 'message');
    assert.equal(lineKind('<errors> x'), 'message');
    assert.equal(statusTagOf('<left>'), 'left');
    assert.equal(sanitizeLine('a\nb\x1b[2Jc'), 'a b\ufffd[2Jc');
  });
});

describe('byte-exact against Go encoding/json (Go 1.19 + google.golang.org/protobuf Timestamp)', () => {
  let oracle: GoOracle | undefined;
  let missing = '';
  before(async () => {
    const o = await buildGoOracle();
    if ('missing' in o) missing = o.missing;
    else oracle = o;
  });
  after(() => oracle?.close());

  /** The oracle; without Go the test skips, or fails under CI (the skip contract). */
  const needGo = (t: { skip(msg: string): void }): GoOracle | undefined => {
    if (oracle) return oracle;
    skipIfMissing(t, `Go oracle unavailable: ${missing}`);
    return undefined;
  };

  it('records, states and updates encode to the same bytes', async (t) => {
    const go = needGo(t);
    if (!go) return;
    const states = [records.slice(0, 5), records.filter((r) => r.name !== '')];
    const namesForOrder = ['b', 'a', 'é', '😀', '\uffee', 'Z', 'a-1', 'a_1'];
    states.push(namesForOrder.map((name) => ({ msgType: 0, name, sender: 'h:1' })));
    const updates: KvUpdate[][] = [
      [{ Action: 'add', Data: { b: '1', a: tricky[1]!, [tricky[3]!]: tricky[4]! } }],
      [
        { Action: 'del', Data: { key: '' } },
        { Action: 'add', Data: {} },
      ],
    ];
    const cases = [
      ...[...records, ...encodeOnly].map((r) => ({ kind: 'record', member: goMember(r) })),
      ...states.map((s) => ({ kind: 'state', members: s.map(goMember) })),
      ...updates.map((u) => ({ kind: 'kv', updates: u })),
    ];
    const outs = await go.run(cases);
    const ours = [
      ...[...records, ...encodeOnly].map(encodeMemberRecord),
      ...states.map((s) => encodeLocalState(new Map(s.map((r) => [r.name, r])))),
      ...updates.map(encodeKvUpdates),
    ];
    assert.equal(outs.length, ours.length);
    outs.forEach((o, i) => {
      assert.equal(o.err, undefined, `case ${i}`);
      assert.equal(text(ours[i]!), text(fromB64(o.out!)), `case ${i}: ${JSON.stringify(cases[i])}`);
    });
  });

  it('decodes what Go decodes to the same record, and rejects what Go rejects', async (t) => {
    const go = needGo(t);
    if (!go) return;
    const inputs = [
      ...records
        .filter((r) => r.name !== '' && (r.msgType !== 0 || r.sender))
        .map((r) => text(encodeMemberRecord(r))),
      '{"MSGTYPE":1,"Name":"x","SENDER":"h:1","extra":[1,{"a":null}]}',
      '{"name":"x","sender":"h:1","timestamp":null,"msgType":null}',
      '{"name":"first","NAME":"second","sender":"h:1"}',
      '{"name":"x","sender":"h:1","timestamp":{"SECONDS":12,"Nanos":34}}',
      '{"name":"\\u00e9\\ud83d\\ude00 \\u003c","sender":"h:1"}',
      Buffer.from([
        0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x2c, 0x22, 0x73,
        0x65, 0x6e, 0x64, 0x65, 0x72, 0x22, 0x3a, 0x22, 0x68, 0x3a, 0x31, 0x22, 0x7d,
      ]),
    ];
    const goRejects = [
      'not json',
      '\ufeff{"name":"x","sender":"h:1"}',
      '{"name":5}',
      '{"name":"x","sender":"h:1","timestamp":{"nanos":1.5}}',
      '{"name":"x","sender":"h:1","timestamp":{"seconds":"1"}}',
      '{"name":"x","sender":"h:1","timestamp":7}',
      '{"msgType":"1","name":"x"}',
      '[]',
    ];
    const all = [...inputs, ...goRejects];
    const outs = await go.run(all.map((i) => ({ kind: 'decode', bytes: b64(i) })));
    inputs.forEach((input, i) => {
      assert.equal(outs[i]!.err, undefined, `Go rejected case ${i}`);
      const bytes = typeof input === 'string' ? Buffer.from(input) : input;
      assert.equal(
        text(encodeMemberRecord(decodeMemberRecord(bytes))),
        text(fromB64(outs[i]!.out!)),
        `case ${i}`,
      );
    });
    goRejects.forEach((input, j) => {
      assert.ok(outs[inputs.length + j]!.err, `Go accepted ${input}`);
      assert.throws(() => decodeMemberRecord(input), ChatProtocolError, input);
    });
  });
});
