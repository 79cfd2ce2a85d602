export * from './signing';
export * from './address-guard';
export * from './schedule';
export * from './localize';
export * from './types';
export * from './store';
export * from './journal-store';
export * from './routes';
