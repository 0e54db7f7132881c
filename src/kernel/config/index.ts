export { loadConfig, describeConfig, maskUrl, ConfigError, type Config, type LoadOptions } from './load.js';
export { PROFILES, type Profile, type Setting, setting, envBoolean, envInt, urlOrSandbox, commaList } from './setting.js';
export { SETTINGS } from './settings/index.js';
export { FeatureFlags } from './flags.js';
