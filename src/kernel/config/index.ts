export { FeatureFlags } from './flags.js';
export { type Config, ConfigError, describeConfig, type LoadOptions, loadConfig, maskUrl } from './load.js';
export {
  commaList,
  envBoolean,
  envInt,
  PROFILES,
  type Profile,
  type Setting,
  setting,
  urlOrSandbox,
} from './setting.js';
export { SETTINGS } from './settings/index.js';
