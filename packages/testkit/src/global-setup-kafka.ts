/** vitest globalSetup providing only Kafka (KAFKA_BROKERS). See global-setup.ts. */
import { servicesSetup } from './global-setup';

export default servicesSetup(['kafka']);
