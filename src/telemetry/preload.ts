/**
 * The first import of every entry point (API, worker, all-in-one, demo):
 * OpenTelemetry instruments a module only if it starts before that module
 * is loaded. Does nothing without OTEL_EXPORTER_OTLP_ENDPOINT.
 */
import { startTracing } from './tracing';

startTracing();
