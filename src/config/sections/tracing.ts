// `tracing.*` (issue 26): plugged into the one schema of src/config/schema.ts.
import { Type } from '@sinclair/typebox';

export const TracingSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description: 'Export OpenTelemetry traces (OTLP over HTTP, JSON). Off: no span is made and nothing is exported.',
    }),
    endpoint: Type.String({
      minLength: 1,
      default: 'http://127.0.0.1:4318/v1/traces',
      description: 'OTLP/HTTP traces URL of the collector.',
    }),
    headers: Type.Record(Type.String(), Type.String(), {
      default: {},
      description: 'HTTP headers sent with every export (e.g. an API key of the collector).',
    }),
    service_name: Type.String({ minLength: 1, default: 'xivo-auth', description: 'service.name of the exported spans.' }),
    sample_ratio: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 1,
      description: 'Share of new traces recorded; a request whose traceparent is sampled is always recorded.',
    }),
    batch_delay_ms: Type.Integer({ minimum: 1, default: 5000, description: 'Delay between two exports of finished spans (ms).' }),
    export_timeout_ms: Type.Integer({ minimum: 1, default: 10000, description: 'Longest wait of one export (ms).' }),
  },
  { default: {}, description: 'OpenTelemetry traces (docs/observability.md). Changes need a restart.' },
);
