import type { ConfigValues } from './codec.js';
import type { PeerRecord } from './types.js';

/*
 * Values the service stores (compatibility: the original stored anything) although they cannot
 * work. The handler reports each as a warning for the operator's log; the request still succeeds.
 * Only Web-platform APIs here: the handler runs outside Node too.
 */

const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** An IPv4 address in dotted-quad form or an IPv6 address (as the WHATWG URL parser reads one). */
export function isIpAddress(text: string): boolean {
  if (IPV4.test(text)) return true;
  if (!text.includes(':') || /[[\]/?#@%\s]/.test(text)) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

const show = (s: string) => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);

/** Why the stored peer cannot work as a bootstrap contact, one line each; empty when it can. */
export function peerHints(peer: PeerRecord): string[] {
  const hints: string[] = [];
  if (!isIpAddress(peer.ip)) {
    hints.push(`ip ${show(peer.ip)} is not an IP address: peers join the address stored here`);
  }
  if (peer.protocol !== 'tcp' && peer.protocol !== 'udp') {
    hints.push(`protocol ${show(peer.protocol)} is neither tcp nor udp`);
  }
  if (!/^[0-9]+$/.test(peer.timestamp)) {
    hints.push(
      `timestamp ${show(peer.timestamp)} is not Unix seconds: /refill compares timestamps as text`,
    );
  }
  return hints;
}

/** Why a configuration cannot work, one line each; empty when it can. */
export function configHints(c: ConfigValues): string[] {
  const hints: string[] = [];
  if (c.maxpeers <= 0) hints.push(`maxpeers ${c.maxpeers}: no peer can join the list`);
  if (c.minrefillcandidates < 0) {
    hints.push(
      `minrefillcandidates ${c.minrefillcandidates} is negative: no peer refills the list`,
    );
  }
  if (c.minrefillcandidates > c.maxpeers) {
    hints.push(
      `minrefillcandidates ${c.minrefillcandidates} is larger than maxpeers ${c.maxpeers}: more peers refill than the list holds`,
    );
  }
  return hints;
}
