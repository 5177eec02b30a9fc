/**
 * The labelled Go v0.5.4 captures kept in the repository (vectors/wire-labels, see the README
 * there) and the labels and keys they were recorded with.
 */
import { join } from 'node:path';
import { loadCaptures, repoRoot, type WireCapture } from './codec-fixtures.js';

export const LABEL_VECTORS_DIR = join(
  repoRoot(),
  'packages',
  'memberlist',
  'test',
  'vectors',
  'wire-labels',
);

/** Capture phases by file name prefix, longest first (enc32-nocomp- before enc32-). */
export const LABEL_PREFIXES = [
  'compat-',
  'enc32-nocomp-',
  'enc32-',
  'enc16-',
  'label255-',
  'nocomp-',
];

export function loadLabelCaptures(): WireCapture[] {
  return loadCaptures(LABEL_VECTORS_DIR, LABEL_PREFIXES);
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
/** The label of every phase but label255-. */
export const TEAM1 = utf8('team1');
/** The label255- phase: the alphabet repeated to 255 bytes. */
export const LABEL255 = utf8('abcdefghijklmnopqrstuvwxyz'.repeat(10).slice(0, 255));
/** The AES-128 key of the enc16- and compat-enc- captures: bytes 00..0f. */
export const KEY16 = Uint8Array.from({ length: 16 }, (_, i) => i);
