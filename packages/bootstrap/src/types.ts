/**
 * The bootstrap service's data model, exactly as the original Go prototype serialises it
 * (the wire format is in docs/bootstrap.md). All peer fields are strings on the wire.
 */
export interface PeerRecord {
  id: string;
  name: string;
  ip: string;
  port: string;
  protocol: string;
  status: string;
  timestamp: string;
}

export interface BootstrapConfig {
  maxpeers: number;
  minrefillcandidates: number;
  numpeers: number;
}

/** The whole document every endpoint but /ping answers with. */
export interface BootstrapData {
  Config: BootstrapConfig;
  Peers: Record<string, PeerRecord>;
}

export const DEFAULT_MAXPEERS = 2;
export const DEFAULT_MINREFILLCANDIDATES = 2;
