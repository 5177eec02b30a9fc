// Tests over real network namespaces need root, `ip` and `nft`. Off CI a missing part skips the
// test file loudly; in CI (CI set to anything but empty, 0 or false) it is a failure.
import { netnsUnsupported } from '@isopeer/testkit';
import { blockNames, listOurs } from '@isopeer/testkit/internal';

export function inCi(): boolean {
  const ci = (process.env.CI ?? '').trim().toLowerCase();
  return ci !== '' && ci !== '0' && ci !== 'false';
}

/** For a test file's top level: false when namespaces can be made here, else a skip reason. */
export async function netnsSkip(): Promise<false | string> {
  const why = await netnsUnsupported();
  if (!why) return false;
  if (inCi()) throw new Error(`network namespace tests cannot run in CI: ${why}`);
  const reason = `SKIPPED: network namespace tests need root, ip and nft: ${why}`;
  process.stderr.write(`\n*** ${reason} ***\n\n`);
  return reason;
}

/** Every namespace, host link and nftables table of runner block `index` that still exists. */
export async function meshLeftovers(index: number): Promise<string[]> {
  const names = blockNames(index);
  const found = await listOurs();
  return [
    ...found.namespaces.filter((n) => n === names.hub || n.startsWith(`${names.hub}-`)),
    ...found.links.filter((l) => l === names.hostLink),
    ...found.tables.filter((t) => t === names.guardTable),
  ];
}
