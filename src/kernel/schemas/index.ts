export { opaqueToken, prefixedUlid, ULID_PATTERN } from './ids.js';
export { isSafeText, type SafeTextOptions, safeText, UNSAFE_TEXT_MESSAGE } from './text.js';
