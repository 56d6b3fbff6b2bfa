import { Controller, Get, Inject, Module, ServiceUnavailableException, type DynamicModule, type Type } from '@nestjs/common';
import { HEALTH_CHECKS } from './tokens';

/** name → check; a check resolves true when its dependency answers. */
export type HealthChecks = Record<string, () => Promise<boolean> | boolean>;

export async function runChecks(checks: HealthChecks): Promise<{ ok: boolean; checks: Record<string, boolean> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        return [name, await check()] as const;
      } catch {
        return [name, false] as const;
      }
    }),
  );
  return { ok: entries.every(([, v]) => v), checks: Object.fromEntries(entries) };
}

/**
 * A `/health` controller to list in a module's `controllers`; that module provides HEALTH_CHECKS.
 */
export function createHealthController(service: string, path = 'health'): Type<unknown> {
  @Controller()
  class HealthController {
    constructor(@Inject(HEALTH_CHECKS) readonly checks: HealthChecks) {}
    @Get(path)
    async health() {
      const { ok, checks } = await runChecks(this.checks);
      // 503 when degraded, so container health checks and load balancers notice
      if (!ok) throw new ServiceUnavailableException({ status: 'degraded', service, checks });
      return { status: 'ok', service, checks };
    }
  }
  return HealthController;
}

/** A module with the health controller; HEALTH_CHECKS must be resolvable (provided globally). */
export function createHealthModule(service: string, path = 'health'): DynamicModule {
  @Controller()
  class HealthController {
    constructor(@Inject(HEALTH_CHECKS) private readonly checks: HealthChecks) {}
    @Get(path)
    async health() {
      const { ok, checks } = await runChecks(this.checks);
      // 503 when degraded, so container health checks and load balancers notice
      if (!ok) throw new ServiceUnavailableException({ status: 'degraded', service, checks });
      return { status: 'ok', service, checks };
    }
  }
  @Module({ controllers: [HealthController] })
  class HealthModule {}
  return { module: HealthModule };
}
