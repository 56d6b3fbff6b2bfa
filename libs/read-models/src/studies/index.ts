export * from './entities';
export * from './projection';
