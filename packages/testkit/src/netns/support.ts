import { exec } from './exec.js';

/**
 * Why peers cannot get network namespaces here, or undefined when they can: it takes root
 * (creating namespaces, links and nftables rules needs CAP_NET_ADMIN and CAP_SYS_ADMIN), and the
 * `ip` (iproute2) and `nft` (nftables) programs. `tc`, needed only by `@rate`, is checked there.
 */
export async function netnsUnsupported(): Promise<string | undefined> {
  const uid = process.getuid?.();
  if (uid !== 0) return `network namespaces need root (running as uid ${uid ?? 'unknown'})`;
  for (const [cmd, args, pkg] of [
    ['ip', ['netns', 'list'], 'iproute2'],
    ['nft', ['list', 'tables'], 'nftables'],
  ] as const) {
    try {
      await exec(cmd, [...args], { timeoutMs: 5000 });
    } catch (err) {
      return `\`${cmd} ${args.join(' ')}\` failed (${(err as Error).message}); install ${pkg}`;
    }
  }
  return undefined;
}
