/**
 * The peer's memberlist node through its life: the configuration in Go's form (a preset, or a
 * file loaded with `/loadconfig`), the encryption keys waiting for it, creating it on a
 * partitionable transport, the broadcast queue, shutting it down.
 */
import {
  type Config,
  createMemberlist,
  defaultLANConfig,
  defaultLocalConfig,
  defaultWANConfig,
  fromGoConfig,
  type GoMemberlistConfig,
  Keyring,
  type Memberlist,
  type MemberlistHooks,
  NetTransport,
  TransmitLimitedQueue,
  toGoConfig,
} from '@isopeer/memberlist';
import { ChatError } from './errors.js';
import { PartitionTransport } from './partitions.js';

export type ConfigPreset = 'local' | 'lan' | 'wan';

const PRESETS: Record<ConfigPreset, () => Config> = {
  local: defaultLocalConfig,
  lan: defaultLANConfig,
  wan: defaultWANConfig,
};

export interface MemberlistNodeOptions {
  nodeName: string;
  preset: ConfigPreset;
  bindAddr: string;
  bindPort: number;
  advertiseAddr: string;
  /** Encryption keys for the node; the first is primary. */
  keys: Uint8Array[] | undefined;
  /** Cluster label of the preset configuration ('' = none). */
  label: string;
  /** Whether datagrams and streams to or from an address are cut off (`testpartition`). */
  isPartitioned(address: string): boolean;
}

export class MemberlistNode {
  #goConfig: GoMemberlistConfig | undefined;
  #keyring: Keyring | null;
  #memberlist: Memberlist | undefined;
  #transport: PartitionTransport | undefined;
  #queue: TransmitLimitedQueue | undefined;

  constructor(private readonly opts: MemberlistNodeOptions) {
    this.#keyring = opts.keys && opts.keys.length > 0 ? new Keyring(opts.keys) : null;
  }

  get memberlist(): Memberlist | undefined {
    return this.#memberlist;
  }

  get queue(): TransmitLimitedQueue | undefined {
    return this.#queue;
  }

  /** The encryption keys in effect: the running node's, or those waiting for `create`. */
  get keyring(): Keyring | null {
    return this.#memberlist ? this.#memberlist.keyring : this.#keyring;
  }

  /** The configuration set up by `configure` or `setGoConfig`, else the preset's. */
  currentGoConfig(): GoMemberlistConfig {
    return this.#goConfig ?? this.#presetGoConfig();
  }

  #presetGoConfig(): GoMemberlistConfig {
    const { preset, nodeName, bindAddr, bindPort, advertiseAddr, label } = this.opts;
    return toGoConfig({
      ...PRESETS[preset](),
      name: nodeName,
      bindAddr,
      bindPort,
      advertiseAddr,
      label,
    });
  }

  /** A fresh preset configuration. */
  configure(bindPort?: number): GoMemberlistConfig {
    this.#goConfig = this.#presetGoConfig();
    if (bindPort !== undefined) this.#goConfig.BindPort = bindPort;
    return this.#goConfig;
  }

  /** Takes a configuration; the node name stays the peer's own. Returns a note if it differed. */
  setGoConfig(config: GoMemberlistConfig): string | undefined {
    const { nodeName } = this.opts;
    this.#goConfig = { ...config, Name: nodeName };
    if (config.Name === nodeName || config.Name === '') return undefined;
    return `Name ${JSON.stringify(config.Name)} from the file is not used: this peer is ${nodeName}`;
  }

  /** Sets the gossip verify flags on the running node and in the configuration for `create`. */
  setGossipVerify(flags: { incoming?: boolean; outgoing?: boolean }): void {
    const live = this.#memberlist;
    if (!live && !this.#goConfig) {
      throw new ChatError('CHAT_NOT_CONFIGURED', 'no configuration yet');
    }
    live?.setGossipVerify(flags);
    if (this.#goConfig) {
      if (flags.incoming !== undefined) this.#goConfig.GossipVerifyIncoming = flags.incoming;
      if (flags.outgoing !== undefined) this.#goConfig.GossipVerifyOutgoing = flags.outgoing;
    }
  }

  /** Replaces the keyring: on the running node at once, else for the next `create`. */
  useKeyring(keyring: Keyring): void {
    this.#keyring = keyring;
    this.#memberlist?.setKeyring(keyring);
  }

  /** Binds the node from the configuration and starts probing; nobody else is known yet. */
  async create(hooks: Omit<MemberlistHooks, 'transport'>): Promise<Memberlist> {
    if (this.#memberlist) {
      throw new ChatError('CHAT_MEMBERLIST_EXISTS', 'the memberlist already exists');
    }
    if (!this.#goConfig) throw new ChatError('CHAT_NOT_CONFIGURED', 'no configuration yet');
    let config: Config;
    try {
      config = fromGoConfig(this.#goConfig, PRESETS[this.opts.preset]());
    } catch (e) {
      throw new ChatError('CHAT_CONFIG', (e as Error).message, { cause: e });
    }
    if (this.#keyring) {
      // Go's rule for a SecretKey beside a keyring: it is installed and becomes primary.
      if (config.keyring) {
        this.#keyring.addKey(config.keyring.primaryKey);
        this.#keyring.useKey(config.keyring.primaryKey);
      }
      config.keyring = this.#keyring;
    }
    const inner = await NetTransport.create({
      bindAddr: config.bindAddr,
      bindPort: config.bindPort,
    });
    const transport = new PartitionTransport(inner, this.opts.isPartitioned);
    let ml: Memberlist;
    try {
      ml = await createMemberlist(config, { ...hooks, transport });
    } catch (e) {
      await transport.close();
      throw new ChatError('CHAT_CONFIG', `cannot create the memberlist: ${(e as Error).message}`, {
        cause: e,
      });
    }
    this.#memberlist = ml;
    this.#transport = transport;
    // createMemberlist copies the config but not the keyring: changes to it reach the live node.
    this.#keyring = ml.config.keyring;
    return ml;
  }

  /** The broadcast queue that carries chat records and items (RetransmitMult 3). */
  startBroadcasts(ml: Memberlist): void {
    if (!this.#queue) this.#queue = new TransmitLimitedQueue(() => ml.numMembers(), 3);
  }

  /** Shuts the node down; `forget` allows `create` again. */
  async shutdown(ml: Memberlist, forget: boolean): Promise<void> {
    await ml.shutdown();
    if (forget) {
      this.#memberlist = undefined;
      this.#transport = undefined;
      this.#queue = undefined;
    }
  }

  /** Closes only the network transport, as if the network went away. */
  async closeTransport(): Promise<void> {
    await this.#transport?.close();
  }
}
