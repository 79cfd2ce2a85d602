export {
  startServices,
  dockerAvailable,
  ENV_KAFKA,
  ENV_CLICKHOUSE,
  ENV_PROVIDER,
  type Services,
  type ServiceEnv,
  type ServiceName,
  type Provider,
  type StartServicesOptions,
} from './services';
export { servicesSetup } from './global-setup';
export {
  CHROMIUM,
  CHROMIUM_ARGS,
  chromiumAvailable,
  ensureBoardBuilt,
  launchChromium,
  type LaunchedChromium,
} from './chromium';
