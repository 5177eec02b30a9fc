export { isCI, partMissing, RequiredPartMissingError, skipIfMissing } from './required-parts.js';
