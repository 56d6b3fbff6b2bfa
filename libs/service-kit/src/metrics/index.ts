export * from './registry';
export * from './scraped';
export * from './catalog';
export * from './runs';
export * from './server';
export * from './env';
export * from './consumers';
