export * from './notifier';
export * from './http-post';
export * from './config';
export * from './sources';
export * from './kafka-source';
