import type { Context, Span, Tracer } from '@opentelemetry/api';

/**
 * Traces (OpenTelemetry, docs/operations.md), off unless OTEL_EXPORTER_OTLP_ENDPOINT
 * is set. Off, nothing of OpenTelemetry is even loaded, and every helper
 * below is a test of one boolean. On, the SDK (started by ./preload, the
 * first import of every entry point) reads the standard variables itself:
 * the exporter's protocol (`http/protobuf` by default, `http/json`), the
 * service name, the sampler and the resource attributes.
 *
 * One trace per export: the API's HTTP and GraphQL spans join the caller's
 * `traceparent`; the request stores its context in the export row
 * (`trace_parent`), so that whichever process's dispatcher enqueues it does
 * so inside that trace and puts the context in the job; the worker processes
 * the job in a span of the same trace, and pg, Redis and S3 spans nest under it.
 */

/** The variables that configure tracing: read by this module or by the SDK (docs/configuration.md lists them). */
export const OTEL_VARIABLES = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_RESOURCE_ATTRIBUTES',
] as const;

const TRACER_NAME = 'invoice-export';

interface Started {
  api: typeof import('@opentelemetry/api');
  tracer: Tracer;
  shutdown(): Promise<void>;
}

let started: Started | undefined;

export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/** True once the SDK runs in this process. */
export function tracingEnabled(): boolean {
  return started !== undefined;
}

/**
 * Starts the SDK when an endpoint is configured; call it before pg, ioredis,
 * the AWS SDK, http and graphql are loaded (./preload does). Idempotent.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): void {
  if (started || !tracingConfigured(env)) return;
  // Required here rather than imported: without an endpoint, none of it is ever loaded.
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { GraphQLInstrumentation } = require('@opentelemetry/instrumentation-graphql') as typeof import('@opentelemetry/instrumentation-graphql');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { AwsInstrumentation } = require('@opentelemetry/instrumentation-aws-sdk') as typeof import('@opentelemetry/instrumentation-aws-sdk');
  const named = Boolean(env.OTEL_SERVICE_NAME) || /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const probes = new Set(['/healthz', '/readyz', '/metrics']);
  const sdk = new NodeSDK({
    // The standard variables name the service; without them, the project's name rather than "unknown_service".
    ...(named ? {} : { serviceName: TRACER_NAME }),
    // Traces only: no metric reader (Prometheus serves the metrics), no log exporter (the logs go to stdout).
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not requests anyone follows.
        ignoreIncomingRequestHook: (req) => probes.has((req.url ?? '').split('?')[0]),
      }),
      new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true }),
      // Timers (dispatcher passes, reconciler, sweep, a worker's blocking reads) make no traces of their own.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      // One span per S3 call; the HTTP request under it would only repeat it.
      new AwsInstrumentation({ suppressInternalInstrumentation: true }),
    ],
  });
  sdk.start();
  started = { api, tracer: api.trace.getTracer(TRACER_NAME), shutdown: () => sdk.shutdown() };
}

/** Sends what is buffered and stops (a process's shutdown, before it exits). */
export async function shutdownTracing(): Promise<void> {
  const s = started;
  started = undefined;
  await s?.shutdown().catch(() => undefined);
}

/** The W3C `traceparent` of the active span, to carry the trace through a row or a job; null when off or none. */
export function currentTraceparent(): string | null {
  if (!started) return null;
  const carrier: Record<string, string> = {};
  started.api.propagation.inject(started.api.context.active(), carrier);
  return carrier.traceparent ?? null;
}

function contextOf(s: Started, traceparent: string | null | undefined): Context {
  const active = s.api.context.active();
  return traceparent ? s.api.propagation.extract(active, { traceparent }) : active;
}

/**
 * Runs `fn` in a span of the trace `traceparent` names (or of the active
 * one); without tracing, just runs it.
 */
export function inSpan<T>(
  name: string,
  kind: 'producer' | 'consumer' | 'internal',
  attributes: Record<string, string | number>,
  traceparent: string | null | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const s = started;
  if (!s) return fn();
  const { SpanKind, SpanStatusCode } = s.api;
  const spanKind = kind === 'producer' ? SpanKind.PRODUCER : kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.INTERNAL;
  return s.tracer.startActiveSpan(name, { kind: spanKind, attributes }, contextOf(s, traceparent), async (span: Span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** `trace_id` and `span_id` of the active span, for every log line (pino's mixin); {} when off or none. */
export function traceLogFields(): Record<string, string> {
  if (!started) return {};
  const span = started.api.trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
