/** Injection tokens shared by the services. */
export const LOGGER = Symbol('LOGGER');
export const CONFIG = Symbol('CONFIG');
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
