/**
 * What a run did: per-stage busy time, op counts, observed delays and stash memory, per-fit throughput, and
 * (opt-in) the timeline of every stage's spans, written as a Chrome trace or drawn as text.
 */
package io.asyncpipeline.metrics;
