export { derivedSpanId, flushTracing, newTrace, otlpEndpoint, shutdownTracing, startTracing, tracingEnabled, type TracingOptions } from './sdk';
export { extractTrace, injectTrace, natsHeaderGetter, natsHeaderSetter, remoteContext, type NatsHeaders } from './nats';
export { endSpan, recordSpan, SERVICE_ATTRIBUTE, spanTrace, startSpan, type RecordedSpan, type SpanOptions } from './spans';
export { endWorkSpan, recordToolCallSpan, startWorkSpan, workTrace, type WorkCommandFields } from './work';
export { recordBatchSpan } from './batch';
