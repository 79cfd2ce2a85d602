/** vitest globalSetup providing only ClickHouse (CLICKHOUSE_URL). See global-setup.ts. */
import { servicesSetup } from './global-setup';

export default servicesSetup(['clickhouse']);
