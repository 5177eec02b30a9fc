// The fault model and what it turns into: directed links, the @heal forms, nftables rules and
// tc arguments. Pure functions, no privileges needed; the kernel side is tested in tests/src.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetFaults } from '../src/faults.js';
import { blockOf, parseRange } from '../src/netns/addresses.js';
import { faultRuleset, rateCommand } from '../src/netns/rules.js';
import { expandPeerTemplate, PeerCommandError, parsePeerTemplates } from '../src/peer-command.js';
import { parseScript, type RunnerLine } from '../src/script.js';

const PEERS = ['alice', 'bob', 'charly'];
const line = (text: string): RunnerLine => {
  const s = parseScript(`${PEERS.map((p) => `${p} init`).join('\n')}\n${text}`, 'x');
  return s.lines.at(-1) as RunnerLine;
};
/** Every directed link as `from>to` with its state, for compact assertions. */
const links = (f: NetFaults) =>
  PEERS.flatMap((a) =>
    PEERS.filter((b) => b !== a).flatMap((b) =>
      f.cut(a, b)
        ? [`${a}>${b} ${f.cut(a, b) === 'all' ? 'cut' : 'one-way'}`]
        : f.lossPercent(a, b)
          ? [`${a}>${b} ${f.lossPercent(a, b)}%`]
          : [],
    ),
  );

test('a two-way partition cuts both directions; a one-way one only from → to', () => {
  const f = new NetFaults(PEERS);
  const c = f.apply(line('@partition alice -> bob'));
  assert.deepEqual(links(f), ['alice>bob one-way']);
  assert.deepEqual([...c.rules], ['alice'], 'applied where the traffic leaves');
  assert.deepEqual(c.cut, [], 'not a two-way cut: the loopback mode cannot do this');
  assert.deepEqual(
    c.logs.map((l) => [l.peer, l.kind, l.fault]),
    [
      ['alice', 'partitioned', { kind: 'partition', from: 'alice', to: 'bob', oneWay: true }],
      ['bob', 'partitioned', { kind: 'partition', from: 'alice', to: 'bob', oneWay: true }],
    ],
  );
  const c2 = f.apply(line('@partition alice bob'));
  assert.deepEqual(links(f), ['alice>bob cut', 'bob>alice cut']);
  assert.deepEqual([...c2.rules], ['alice', 'bob'], "alice's one-way cut became a full one");
  assert.deepEqual(c2.cut, [['alice', 'bob']]);
});

test('@isolate cuts every link of the peer, @heal <peer> restores exactly those', () => {
  const f = new NetFaults(PEERS);
  f.apply(line('@loss alice -> bob 5%'));
  const c = f.apply(line('@isolate charly'));
  assert.deepEqual(links(f), [
    'alice>bob 5%',
    'alice>charly cut',
    'bob>charly cut',
    'charly>alice cut',
    'charly>bob cut',
  ]);
  assert.deepEqual([...c.rules].sort(), PEERS);
  assert.deepEqual(c.logs, [
    { peer: 'charly', kind: 'isolated', fault: { kind: 'isolate', peer: 'charly' } },
  ]);
  const h = f.apply(line('@heal charly'));
  assert.deepEqual(links(f), ['alice>bob 5%'], 'the unrelated loss stays');
  assert.deepEqual(
    h.logs.map((l) => l.peer),
    PEERS,
    'every lane whose links changed gets a healed mark',
  );
  assert.deepEqual(h.uncut.length, 2);
});

test('loss: per peer (every link out), per link (both ways), one way; a cut beats a loss', () => {
  const f = new NetFaults(PEERS);
  f.apply(line('@loss alice 20%'));
  assert.deepEqual(links(f), ['alice>bob 20%', 'alice>charly 20%']);
  f.apply(line('@loss bob charly 0.5%'));
  assert.deepEqual(links(f), [
    'alice>bob 20%',
    'alice>charly 20%',
    'bob>charly 0.5%',
    'charly>bob 0.5%',
  ]);
  f.apply(line('@partition alice bob'));
  assert.deepEqual(f.egress('alice'), { blocked: ['bob'], oneWay: [], loss: [['charly', 20]] });
  f.apply(line('@heal alice -> bob'));
  assert.deepEqual(
    f.egress('alice'),
    { blocked: [], oneWay: [], loss: [['charly', 20]] },
    'one way healed',
  );
  assert.deepEqual(f.egress('bob'), { blocked: ['alice'], oneWay: [], loss: [['charly', 0.5]] });
  f.apply(line('@partition charly -> alice'));
  f.apply(line('@loss charly 3%'));
  assert.deepEqual(
    f.egress('charly'),
    {
      blocked: [],
      oneWay: ['alice'],
      loss: [
        ['alice', 3],
        ['bob', 3],
      ],
    },
    'a one-way cut lets answers through, and loss applies to them',
  );
  f.apply(line('@isolate charly'));
  assert.deepEqual(f.egress('charly').oneWay, [], 'a full cut replaces the one-way cut');
  f.apply(line('@partition charly -> alice'));
  assert.equal(f.cut('charly', 'alice'), 'all', 'and a one-way cut never weakens a full one');
});

test('@heal alone heals everything, rates included; nothing to heal changes nothing', () => {
  const f = new NetFaults(PEERS);
  f.apply(line('@rate bob 1mbit'));
  f.apply(line('@partition alice charly'));
  const h = f.apply(line('@heal'));
  assert.equal(f.active, false);
  assert.deepEqual([...h.rates], ['bob']);
  assert.deepEqual([...h.rules].sort(), ['alice', 'charly']);
  assert.deepEqual(h.uncut, [['alice', 'charly']]);
  const again = f.apply(line('@heal'));
  assert.deepEqual([again.rules.size, again.rates.size, again.logs.length], [0, 0, 0]);
});

test('nftables rules: egress drops by destination; one-way drops what the peer starts; loss in 1/100 %', () => {
  const f = new NetFaults(PEERS);
  const addr = (p: string) => `198.18.7.${PEERS.indexOf(p) + 2}`;
  assert.equal(
    faultRuleset(f, 'alice', addr),
    'table netdev isopeer\ndelete table netdev isopeer\n',
    'no faults: the table is removed (declared first, so the delete never fails)',
  );
  f.apply(line('@isolate alice'));
  f.apply(line('@loss bob 12.5%'));
  f.apply(line('@partition bob -> charly'));
  assert.equal(
    faultRuleset(f, 'bob', addr),
    [
      'table netdev isopeer',
      'delete table netdev isopeer',
      'table netdev isopeer {',
      '  chain egress {',
      '    type filter hook egress device "eth0" priority 0; policy accept;',
      '    ip daddr { 198.18.7.2 } drop',
      '    ip daddr { 198.18.7.4 } meta l4proto != tcp drop',
      '    ip daddr { 198.18.7.4 } tcp flags & (syn | ack) == syn drop',
      '    ip daddr 198.18.7.4 numgen random mod 10000 < 1250 drop',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
});

test('tc: a token bucket big enough for a few full packets, removed by del', () => {
  assert.deepEqual(
    rateCommand({ text: '1mbit', bitsPerSecond: 1e6 }).join(' '),
    'qdisc replace dev eth0 root tbf rate 1000000bit burst 6400 latency 200ms',
  );
  assert.match(rateCommand({ text: '1gbit', bitsPerSecond: 1e9 }).join(' '), /burst 1250000 /);
  assert.deepEqual(rateCommand(undefined), ['qdisc', 'del', 'dev', 'eth0', 'root']);
});

test('address plan: one /24 block per run inside the range, host .1, peers from .2', () => {
  const r = parseRange('198.18.0.0/15');
  assert.equal(r.blocks, 512);
  const b = blockOf(r, 300);
  assert.deepEqual(
    [b.subnet, b.host, b.peer(0), b.peer(252), b.capacity],
    ['198.19.44.0/24', '198.19.44.1', '198.19.44.2', '198.19.44.254', 253],
  );
  assert.throws(() => b.peer(253), /holds at most 253 peers/);
  const small = parseRange('10.9.8.16/28');
  assert.deepEqual(
    [small.blocks, blockOf(small, 0).subnet, blockOf(small, 0).capacity],
    [1, '10.9.8.16/28', 13],
  );
  assert.throws(
    () => parseRange('198.18.0.1/15'),
    /host bits are set; did you mean 198\.18\.0\.0\/15/,
  );
  assert.throws(() => parseRange('198.18.0.0'), /expected A\.B\.C\.D\/N/);
  assert.throws(() => parseRange('10.0.0.0/30'), /from \/8 to \/29/);
  assert.throws(() => parseRange('300.1.1.0/24'), /not an IPv4 address/);
  assert.throws(() => blockOf(r, 512), /outside/);
});

test('peer command templates: words split first, placeholders filled inside words', () => {
  assert.deepEqual(
    expandPeerTemplate('node "my app.js" --name={name} --at {addr}:7000 --json "{\\"k\\":1}"', {
      name: 'al ice',
      test: 't',
      test_server: 'http://h:1',
      bootstrap: 'http://h:2',
      addr: '198.18.0.2',
      state_dir: '/tmp/s',
    }),
    ['node', 'my app.js', '--name=al ice', '--at', '198.18.0.2:7000', '--json', '{"k":1}'],
  );
  assert.deepEqual(parsePeerTemplates(['node a.js {name}', 'bob=./go-peer -name {name}']), {
    default: 'node a.js {name}',
    peers: { bob: './go-peer -name {name}' },
  });
  assert.throws(() => parsePeerTemplates(['a', 'b']), /two default peer commands/);
  assert.throws(() => parsePeerTemplates(['bob=x', 'bob=y']), /two peer commands for bob/);
  assert.throws(() => parsePeerTemplates(['bob={nope}']), PeerCommandError);
  assert.throws(() => parsePeerTemplates(['  ']), /peer command is empty/);
});
