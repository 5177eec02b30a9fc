// A peer that is not the chat peer, driven by `isopeer test`: memberlist for membership, the
// bootstrap service to find the group, three commands of its own. Each receiver of `say` echoes
// the line back. Run: isopeer test examples/echo-peer/echo.cmd \
//   --peer-cmd 'node examples/echo-peer/echo-peer.mjs {name} {test} {addr}'
import { BootstrapClient, contactAddresses } from '@isopeer/bootstrap';
import { createMemberlist, defaultLocalConfig } from '@isopeer/memberlist';
import { attachInterpreter } from '@isopeer/testkit';

const [name, test, addr = '127.0.0.1'] = process.argv.slice(2);
const send = (to, ...fields) => ml.sendReliable(to, Buffer.from(fields.join('|')));
let ml;

function show(line) {
  console.log(line); // the program's own output, as ever
  peer.show(line); // ...and what the test's filters count
}

function received(bytes) {
  const [kind, from, text] = Buffer.from(bytes).toString().split('|');
  show(kind === 'say' ? `<${from}> ${text}` : `<${from}> echo: ${text}`);
  if (kind === 'say') send(from, 'echo', name, text).catch(() => {});
}

async function execute(line) {
  const [cmd, ...words] = line.split(' ');
  if (cmd === 'init') {
    const config = { ...defaultLocalConfig(), name, bindAddr: addr, bindPort: 0 };
    ml = await createMemberlist(config, { delegate: { notifyMsg: received } });
    ml.on('join', (n) => n.name !== name && show(`<joined> ${n.name} has joined`));
    ml.on('leave', (n) => show(`<left> ${n.name} has ${n.state === 'left' ? 'left' : 'failed'}`));
    const port = String(ml.localNode().port);
    const me = { id: name, name, ip: addr, port, protocol: 'udp', status: '0', timestamp: '0' };
    const contacts = contactAddresses(await new BootstrapClient().join(me), me); // env BOOTSTRAP_DATA_SERVER
    if (contacts.length > 0) await ml.join(contacts);
  } else if (cmd === 'say') {
    const others = ml.members().filter((m) => m.name !== name);
    await Promise.all(others.map((m) => send(m, 'say', name, words.join(' '))));
  } else if (cmd === 'members') show(`members: ${ml.members().length}`);
  else throw new Error(`unknown command ${cmd} (init, say, members)`);
}

const peer = attachInterpreter({ peerName: name, scriptName: test, execute }); // env TEST_SIDECAR_SERVER
process.on('SIGTERM', () => Promise.resolve(ml?.shutdown()).finally(() => process.exit(0)));
