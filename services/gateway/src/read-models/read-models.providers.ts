import { Inject, Injectable, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { createDataSource, ReadModelQueries, type DataSource } from '@conclave/read-models';
import type { GatewayConfig } from '../config';
import type { Logger } from '@conclave/service-kit';
import { CONFIG, DATA_SOURCE, LOGGER } from '../tokens';

/**
 * The gateway reads only read models (DESIGN.md): one TypeORM DataSource on the projector's
 * tables and the query class next to them. The gateway never runs migrations; the projector owns
 * the schema.
 */
export const readModelProviders: Provider[] = [
  {
    provide: DATA_SOURCE,
    inject: [CONFIG],
    useFactory: async (config: GatewayConfig): Promise<DataSource> => {
      const dataSource = createDataSource(config.DATABASE_URL);
      if (!dataSource.isInitialized) await dataSource.initialize();
      return dataSource;
    },
  },
  { provide: ReadModelQueries, inject: [DATA_SOURCE], useFactory: (dataSource: DataSource) => new ReadModelQueries(dataSource) },
];

/**
 * Closes the DataSource on shutdown. It depends on the queries, so Nest (which shuts providers
 * down from the most dependent level) runs it before the EventLog drains.
 */
@Injectable()
export class ReadModelsCloser implements OnApplicationShutdown {
  constructor(
    @Inject(DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(ReadModelQueries) readonly queries: ReadModelQueries,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}
  async onApplicationShutdown() {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    this.logger.info('read-model connections closed');
  }
}
