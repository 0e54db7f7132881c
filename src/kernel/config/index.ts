export { ConfigFlagProvider, type FlagValues } from './flag-provider.js';
export {
  FeatureFlags,
  type FlagDefinition,
  type FlagTable,
  flag,
  resolveFlags,
} from './flags.js';
export {
  ConfigError,
  configFilePath,
  describeSettings,
  type LoadOptions,
  loadSettings,
  maskUrl,
  readSettingFile,
} from './load.js';
export { rejectUnknownOptions } from './options.js';
export {
  type ConfigOf,
  commaList,
  envBoolean,
  envInt,
  PROFILES,
  type Profile,
  type Setting,
  type SettingTable,
  setting,
  splitCommaList,
  urlOrSandbox,
} from './setting.js';
export { KERNEL_SETTINGS, type KernelConfig } from './settings/index.js';
