import { fileURLToPath } from 'node:url';

/** The Go prototype's saveconfig output, kept with memberlist's Go format (see its README). */
export const goConfigVector = fileURLToPath(
  new URL('../../../memberlist/test/vectors/go-memberlist-config.json', import.meta.url),
);
