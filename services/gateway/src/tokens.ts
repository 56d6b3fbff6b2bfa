/** Injection tokens of the gateway (the service-kit ones — CONFIG, LOGGER — are reused). */
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export { CONFIG, LOGGER } from '@conclave/service-kit';
