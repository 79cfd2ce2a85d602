export * from './notifier';
export * from './http-post';
