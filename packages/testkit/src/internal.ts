// @isopeer/testkit/internal: for the project's own tests and benchmarks, not a stable API — the
// naming and bookkeeping of the namespace mesh, to look for leftovers, and the command runner.
export {
  blockNames,
  type ClaimFile,
  claimAlive,
  cleanStale,
  listOurs,
  readClaim,
  removeBlock,
} from './netns/claims.js';
export { exec } from './netns/exec.js';
