// Tests over real network namespaces need root, `ip` and `nft`. Off CI a missing part skips the
// test file; in CI (CI set to anything but empty, 0 or false) it is a failure.
import { join } from 'node:path';
import { partMissing } from '@isopeer/test-support';
import { DEFAULT_STATE_DIR, netnsUnsupported } from '@isopeer/testkit';
import { blockNames, claimAlive, listOurs, readClaim } from '@isopeer/testkit/internal';

/**
 * For a test file's top level: false when namespaces can be made here, else a skip reason;
 * under CI a missing part throws (see @isopeer/test-support).
 */
export async function netnsSkip(): Promise<false | string> {
  const why = await netnsUnsupported();
  return partMissing(why ? `network namespace tests need root, ip and nft: ${why}` : null);
}

/**
 * Every namespace, host link and nftables table of runner block `index` that still exists — as
 * far as they can be told apart: when another live runner holds the block by now (tests run in
 * parallel), what is there is its own, and nothing of the earlier holder can be left (a block's
 * objects are created only after their names were free), so the answer is empty. `owner` is the
 * pid of the runner whose objects are looked for, when it still runs.
 */
export async function meshLeftovers(index: number, owner = process.pid): Promise<string[]> {
  const claim = await readClaim(join(DEFAULT_STATE_DIR, `${index}.json`));
  if (claim && claim.pid !== owner && (await claimAlive(claim))) return [];
  const names = blockNames(index);
  const found = await listOurs();
  return [
    ...found.namespaces.filter((n) => n === names.hub || n.startsWith(`${names.hub}-`)),
    ...found.links.filter((l) => l === names.hostLink),
    ...found.tables.filter((t) => t === names.guardTable),
  ];
}
